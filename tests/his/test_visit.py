"""``yibao his outpatient`` / ``inpatient``: whole visits driven through the client, against the application."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.claims.helpers import cn
from tests.claims.test_messages import catalogue, text_of
from tests.nhsa.helpers import create_institution, create_insured, his
from yibao.claims import views
from yibao.claims.answers import invariants
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.his import HisError
from yibao.his.visit import BillError, VisitOptions, inpatient, outpatient, read_bill


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10))):
        yield


def test_a_whole_stay_from_a_csv_bill(api_client: Any, engine: Engine, tmp_path: Path) -> None:
    creds = create_institution(engine)
    idn, psn_no = create_insured(engine)
    a, b, c = catalogue(engine, "01", "02", "03")
    bill = tmp_path / "stay.csv"
    # class A 5,000.00, class B 2,000.00 (no amount: price × quantity), class C 300.00 (1.5 × 200.00)
    bill.write_text(
        "med_list_codg,name,pric,cnt,det_item_fee_sumamt\n"
        f"{a},甲类药,5000.00,1,5000.00\n{b},乙类药,1000.00,2,\n{c},丙类药,200.00,1.5,300.00\n",
        encoding="utf-8",
    )
    seen: list[str] = []
    h = his(api_client, creds)
    result = inpatient(h, idn, read_bill(bill), VisitOptions(med_type="21"), say=lambda infno, _: seen.append(infno))
    assert seen == ["9001", "1101", "2401", "2301", "2402", "2303", "2304", "9002"]
    assert h.sign_no is None  # signed out
    info = text_of(result.setlinfo)
    # the same stay as `yibao calc`: fund 4,340.00, the patient 2,960.00
    assert (result.psn_no, info["medfee_sumamt"], info["hifp_pay"], info["psn_cash_pay"]) == (
        psn_no,
        "7300.00",
        "4340.00",
        "2960.00",
    )
    assert {k: v for k, v in text_of(result.presettlement).items() if k != "medins_setl_id"} == {
        k: v for k, v in info.items() if k not in ("setl_id", "medins_setl_id")
    }
    assert invariants(info, [text_of(d) for d in result.setldetail]) == []
    assert [r["chrgitm_lv"] for r in result.lines] == ["01", "02", "03"]
    with unit_of_work(engine, principal=system_principal()) as s:
        shown = views.show(s, info["setl_id"])
    assert shown.setlinfo["hifp_pay"] == "4340.00" and shown.med_type == "21"


def test_a_whole_outpatient_visit_from_a_json_bill(api_client: Any, engine: Engine, tmp_path: Path) -> None:
    creds = create_institution(engine, kind="community_health_center", level=1)
    idn, _ = create_insured(engine)
    a, b = catalogue(engine, "01", "02")
    bill = tmp_path / "visit.json"
    lines = [{"med_list_codg": a, "pric": "15.00", "cnt": 2}, {"med_list_codg": b, "pric": 20.5, "cnt": "1"}]
    bill.write_text(json.dumps({"feedetail": lines}), encoding="utf-8")
    result = outpatient(his(api_client, creds), idn, read_bill(bill), VisitOptions(med_type="11"))
    info = text_of(result.setlinfo)
    # 50% of 50.50 = 25.25 at a community centre (under the 40.00 a visit)
    assert (info["medfee_sumamt"], info["hifp_pay"], info["psn_cash_pay"], info["clr_type"]) == (
        "50.50",
        "25.25",
        "25.25",
        "11",
    )


def test_a_refusal_names_the_message_and_signs_out(api_client: Any, engine: Engine, tmp_path: Path) -> None:
    creds = create_institution(engine, region="532900")  # in Dali: an off-site stay for a Kunming resident
    idn, _ = create_insured(engine)
    (a,) = catalogue(engine, "01")
    bill = tmp_path / "stay.json"
    bill.write_text(json.dumps([{"med_list_codg": a, "pric": "100.00", "cnt": 1}]), encoding="utf-8")
    h = his(api_client, creds)
    with pytest.raises(HisError) as err:
        inpatient(h, idn, read_bill(bill), VisitOptions(med_type="21"))
    assert "先由个人支付" in err.value.err_msg
    assert h.sign_no is None


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("med_list_codg,pric,cnt\nX1,abc,1\n", ".csv", "stay.csv[0].pric: 不是数字"),
        ("pric,cnt\n1.00,1\n", ".csv", "stay.csv[0].med_list_codg: 缺少医保目录编码"),
        ("[]", ".json", "没有费用明细"),
        ('{"feedetail": 3}', ".json", "应为费用明细的列表"),
        ('[{"med_list_codg": "X", "pric": 1, "fee_ocur_time": "2023/03/01"}]', ".json", "fee_ocur_time"),
    ],
)
def test_a_bad_bill_is_named(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    bill = tmp_path / f"stay{suffix}"
    bill.write_text(content, encoding="utf-8")
    with pytest.raises(BillError) as err:
        read_bill(bill)
    assert message in str(err.value)


def test_an_amount_left_out_is_price_times_quantity_half_up(tmp_path: Path) -> None:
    bill = tmp_path / "b.csv"
    bill.write_text("med_list_codg,pric,cnt\nX1,0.35,1.5\nX2,10.00,0.3333\n", encoding="utf-8")
    assert [li.amount for li in read_bill(bill)] == [Decimal("0.53"), Decimal("3.33")]
