"""Whole outpatient and inpatient flows through ``yibao.his.Client`` on the application (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.claims.helpers import cn
from tests.nhsa.conftest import Gateway
from tests.nhsa.helpers import create_institution, create_insured, his
from yibao.catalogue.models import CatalogueItem
from yibao.claims.answers import invariants
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.his import HisError


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10))):
        yield


def catalogue(engine: Engine, *levels: str, ceiling: int | None = None) -> list[str]:
    """Catalogue rows of the given classes; their codes."""
    import uuid

    codes = []
    with unit_of_work(engine, principal=system_principal()) as s:
        for level in levels:
            code = f"C{uuid.uuid4().hex[:12].upper()}"
            s.add(
                CatalogueItem(
                    code=code,
                    name="测试药品",
                    list_type="101",
                    chrgitm_lv=level,
                    med_chrgitm_type="09",
                    price_ceiling=ceiling,
                    begin=date(2020, 1, 1),
                    end=None,
                    updated_at=clock.now(),
                )
            )
            codes.append(code)
    return codes


def text_of(answer: dict[str, Any]) -> dict[str, str]:
    """An answer's amounts as two-decimal strings (they arrive as exact Decimals)."""
    return {k: f"{v:.2f}" if isinstance(v, Decimal) else v for k, v in answer.items()}


def count(gw: Gateway, table: str) -> int:
    return gw.count(table)


def test_outpatient_visit_at_a_community_centre(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine, kind="community_health_center", level=1)
    h = his(api_client, creds)
    idn, psn_no = create_insured(engine)
    a, b = catalogue(engine, "01", "02")
    h.sign_in("001")
    base = h.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn}})["baseinfo"]
    assert base["psn_no"] == psn_no
    reg = h.call(
        "2201",
        {
            "data": {
                "psn_no": psn_no,
                "insutype": "390",
                "begntime": "2023-03-10 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": idn,
                "ipt_otp_no": "MZ0001",
            }
        },
    )["data"]
    mdtrt_id = reg["mdtrt_id"]
    h.call(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": "11",
                "begntime": "2023-03-10 09:05:00",
                "dise_codg": "J06.900",
                "dise_name": "上呼吸道感染",
            },
            "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900", "diag_name": "上呼吸道感染"}],
        },
    )
    lines = [
        {
            "feedetl_sn": "1",
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "chrg_bchno": "B1",
            "fee_ocur_time": "2023-03-10 09:10:00",
            "med_list_codg": a,
            "det_item_fee_sumamt": "30.00",
            "cnt": "2",
            "pric": "15.00",
        },
        {
            "feedetl_sn": "2",
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "chrg_bchno": "B1",
            "fee_ocur_time": "2023-03-10 09:10:00",
            "med_list_codg": b,
            "det_item_fee_sumamt": 20.5,
            "cnt": 1,
            "pric": "20.50",
        },
    ]
    result = h.call("2204", {"feedetail": lines})["result"]
    assert [r["chrgitm_lv"] for r in result] == ["01", "02"] and result[1]["preselfpay_amt"] == Decimal("0.00")
    ask = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": idn,
            "med_type": "11",
            "medfee_sumamt": "50.50",
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": "B1",
            "insutype": "390",
            "acct_used_flag": "0",
        }
    }
    pre = h.call("2206", ask)
    assert "setl_id" not in pre["setlinfo"]
    before = count(gw_of(api_client, engine, creds), "claim_settlements")
    first = h.send("2207", ask, msgid="M-2207-0001")
    assert first.ok, first.err_msg
    info = text_of(first.output["setlinfo"])
    # 50% of 50.50 = 25.25 (under the 40.00 a visit)
    assert (info["hifp_pay"], info["psn_cash_pay"], info["clr_type"]) == ("25.25", "25.25", "11")
    assert invariants(info, [text_of(d) for d in first.output["setldetail"]]) == []
    assert {k: v for k, v in text_of(pre["setlinfo"]).items() if k not in ("medins_setl_id",)} == {
        k: v for k, v in info.items() if k not in ("setl_id", "medins_setl_id")
    }
    again = h.send("2207", ask, msgid="M-2207-0001")
    assert again.envelope == first.envelope
    g = gw_of(api_client, engine, creds)
    assert count(g, "claim_settlements") == before + 1
    cum = {
        c["cum_type_code"]: c["cum"]
        for c in h.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202303"}})["cuminfo"]
    }
    assert cum["GEN_OUTP_PAID"] == Decimal("25.25") and cum["FUND_PAID"] == Decimal("25.25")
    q = h.call("5203", {"data": {"psn_no": psn_no, "setl_id": info["setl_id"], "mdtrt_id": mdtrt_id}})["setlinfo"]
    assert q["refd_setl_flag"] == "0" and q["psn_pay"] == Decimal("25.25") and q["dise_codg"] == "J06.900"
    back = h.call("2208", {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}})["setlinfo"]
    assert back["hifp_pay"] == Decimal("-25.25") and back["pdn_cash_pay"] == Decimal("-25.25")
    cum = {
        c["cum_type_code"]: c["cum"]
        for c in h.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202303"}})["cuminfo"]
    }
    assert cum["GEN_OUTP_PAID"] == Decimal("0.00")
    with pytest.raises(HisError) as twice:
        h.call("2208", {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}})
    assert "不能重复冲销" in twice.value.err_msg


def gw_of(api_client: Any, engine: Engine, creds: Any) -> Gateway:
    return Gateway(api_client, engine, creds, his(api_client, creds))


def _admission(h: Any, idn: str, psn_no: str, **over: Any) -> str:
    info = {
        "psn_no": psn_no,
        "insutype": "390",
        "begntime": "2023-03-01 08:00:00",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": idn,
        "med_type": "21",
        "ipt_no": "ZY0001",
        "adm_dept_name": "内科",
    } | over
    out = h.call(
        "2401",
        {
            "mdtrtinfo": info,
            "diseinfo": [
                {"psn_no": psn_no, "diag_type": "1", "maindiag_flag": "1", "diag_code": "J18.900", "diag_name": "肺炎"}
            ],
        },
    )
    return str(out["result"]["mdtrt_id"])


def test_inpatient_stay_with_a_refund_and_a_lost_answer(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine)
    h = his(api_client, creds)
    idn, psn_no = create_insured(engine)
    a, b, c = catalogue(engine, "01", "02", "03")
    h.sign_in("001")
    mdtrt_id = _admission(h, idn, psn_no)
    line = {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "21", "fee_ocur_time": "2023-03-02 10:00:00"}
    h.call(
        "2301",
        {
            "feedetail": [
                line
                | {
                    "feedetl_sn": "1",
                    "med_list_codg": a,
                    "det_item_fee_sumamt": "5000.00",
                    "cnt": 1,
                    "pric": "5000.00",
                },
                line
                | {
                    "feedetl_sn": "2",
                    "med_list_codg": b,
                    "det_item_fee_sumamt": "3000.00",
                    "cnt": 3,
                    "pric": "1000.00",
                },
                line
                | {
                    "feedetl_sn": "3",
                    "med_list_codg": c,
                    "det_item_fee_sumamt": "300.00",
                    "cnt": "1.5",
                    "pric": "200.00",
                },
            ]
        },
    )
    refund = h.call(
        "2301",
        {
            "feedetail": [
                line
                | {
                    "feedetl_sn": "4",
                    "init_feedetl_sn": "2",
                    "med_list_codg": b,
                    "det_item_fee_sumamt": "-1000.00",
                    "cnt": -1,
                    "pric": "1000.00",
                },
            ]
        },
    )["result"][0]
    assert refund["preselfpay_amt"] == Decimal("-100.00")
    h.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": "390",
                "endtime": "2023-03-08 10:00:00",
                "dscg_way": "1",
            }
        },
    )
    ask = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": idn,
            "medfee_sumamt": 7300,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "390",
            "acct_used_flag": "0",
            "mid_setl_flag": "0",
            "dscgTime": "2023-03-08 10:00:00",
        }
    }
    pre = text_of(h.call("2303", ask)["setlinfo"])
    # the same stay as `yibao calc`: total 7,300.00, in scope 7,000.00, class B 2,000.00 → fund 4,340.00
    assert (pre["hifp_pay"], pre["preselfpay_amt"], pre["psn_part_amt"]) == ("4340.00", "200.00", "2960.00")
    # the answer to this settlement is lost on its way back: the hospital reverses it by its msgid
    settled = h.send("2304", ask, msgid="M-2304-LOST")
    assert settled.ok, settled.err_msg
    h.call("2601", {"data": {"psn_no": psn_no, "omsgid": "M-2304-LOST", "oinfno": "2304"}})
    with pytest.raises(HisError) as twice:
        h.call("2601", {"data": {"psn_no": psn_no, "omsgid": "M-2304-LOST", "oinfno": "2304"}})
    assert "不能重复冲销" in twice.value.err_msg
    final = h.call("2304", ask)
    info = text_of(final["setlinfo"])
    assert info["hifp_pay"] == "4340.00" and invariants(info, [text_of(d) for d in final["setldetail"]]) == []
    cum = {
        c["cum_type_code"]: c["cum"]
        for c in h.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202303"}})["cuminfo"]
    }
    assert cum["FUND_PAID"] == Decimal("4340.00") and cum["CATA_BASE"] == Decimal("2660.00")
    with pytest.raises(HisError) as late:
        h.call(
            "2301",
            {
                "feedetail": [
                    line
                    | {"feedetl_sn": "9", "med_list_codg": a, "det_item_fee_sumamt": "1.00", "cnt": 1, "pric": "1.00"}
                ]
            },
        )
    assert "已结算" in late.value.err_msg


def test_bad_input_is_named_and_nothing_is_written(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine)
    h = his(api_client, creds)
    idn, psn_no = create_insured(engine)
    (a,) = catalogue(engine, "01")
    mdtrt_id = _admission(h, idn, psn_no)
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "med_type": "21",
        "fee_ocur_time": "2023-03-02 10:00:00",
        "med_list_codg": a,
        "cnt": 2,
        "pric": "10.00",
    }
    g = gw_of(api_client, engine, creds)
    lines_before = count(g, "claim_fee_lines")
    for amount, says in (
        ("20.001", "input.feedetail[0].det_item_fee_sumamt"),
        ("21.00", "input.feedetail[0].det_item_fee_sumamt"),
    ):
        answer = h.send("2301", {"feedetail": [line | {"det_item_fee_sumamt": amount}]})
        assert not answer.ok and answer.err_msg is not None and answer.err_msg.startswith(says), answer.err_msg
    assert count(g, "claim_fee_lines") == lines_before
    h.call("2301", {"feedetail": [line | {"det_item_fee_sumamt": "20.00"}]})
    h.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": "390",
                "endtime": "2023-03-08 10:00:00",
                "dscg_way": "1",
            }
        },
    )
    ask = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": idn,
            "medfee_sumamt": "20.01",
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "390",
            "acct_used_flag": "0",
            "mid_setl_flag": "0",
        }
    }
    settlements_before = count(g, "claim_settlements")
    wrong = h.send("2304", ask)
    assert not wrong.ok and wrong.err_msg is not None and wrong.err_msg.startswith("input.data.medfee_sumamt")
    unknown = h.send("2304", {"data": ask["data"] | {"medfee_sumamt": "20.00", "mdtrt_id": "20230301000000000000"}})
    assert not unknown.ok and "没有就诊记录" in (unknown.err_msg or "")
    no_account = h.send("2304", {"data": ask["data"] | {"medfee_sumamt": "20.00", "acct_used_flag": "1"}})
    assert not no_account.ok and "个人账户" in (no_account.err_msg or "")
    other = his(api_client, create_institution(engine))
    foreign = other.send("2304", {"data": ask["data"] | {"medfee_sumamt": "20.00"}})
    assert not foreign.ok and "没有就诊记录" in (foreign.err_msg or "")
    assert count(g, "claim_settlements") == settlements_before


def test_off_site_stay_is_refused_with_the_filing_status(api_client: Any, engine: Engine) -> None:
    dali = create_institution(engine, region="532900", level=2)
    h = his(api_client, dali)
    idn, psn_no = create_insured(engine)  # insured in Kunming
    (a,) = catalogue(engine, "01")
    mdtrt_id = _admission(h, idn, psn_no)
    h.call(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "med_type": "21",
                    "fee_ocur_time": "2023-03-02 10:00:00",
                    "med_list_codg": a,
                    "det_item_fee_sumamt": "100.00",
                    "cnt": 1,
                    "pric": "100.00",
                }
            ]
        },
    )
    h.call(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "insutype": "390",
                "endtime": "2023-03-08 10:00:00",
                "dscg_way": "1",
            }
        },
    )
    filed = h.call(
        "2501",
        {
            "refmedin": {
                "psn_no": psn_no,
                "insutype": "390",
                "diag_code": "J18.900",
                "diag_name": "肺炎",
                "refl_date": "2023-02-28",
                "begndate": "2023-02-28",
            }
        },
    )
    answer = h.send(
        "2304",
        {
            "data": {
                "psn_no": psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": idn,
                "medfee_sumamt": "100.00",
                "psn_setlway": "01",
                "mdtrt_id": mdtrt_id,
                "insutype": "390",
                "acct_used_flag": "0",
                "mid_setl_flag": "0",
            }
        },
    )
    assert not answer.ok and answer.err_msg is not None
    assert "先由个人支付" in answer.err_msg and filed["result"]["trt_dcla_detl_sn"] in answer.err_msg


def test_reconciliation_of_totals_is_net_of_reversals(api_client: Any, engine: Engine) -> None:
    creds = create_institution(engine, kind="community_health_center", level=1)
    h = his(api_client, creds)
    (a,) = catalogue(engine, "01")
    setl_ids = []
    for n in range(3):
        idn, psn_no = create_insured(engine)
        mdtrt_id = h.call(
            "2201",
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": "390",
                    "begntime": "2023-03-10 09:00:00",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": idn,
                    "ipt_otp_no": f"MZ{n}",
                }
            },
        )["data"]["mdtrt_id"]
        h.call(
            "2204",
            {
                "feedetail": [
                    {
                        "feedetl_sn": "1",
                        "mdtrt_id": mdtrt_id,
                        "psn_no": psn_no,
                        "chrg_bchno": "B1",
                        "fee_ocur_time": "2023-03-10 09:10:00",
                        "med_list_codg": a,
                        "det_item_fee_sumamt": "40.00",
                        "cnt": 1,
                        "pric": "40.00",
                    }
                ]
            },
        )
        out = h.call(
            "2207",
            {
                "data": {
                    "psn_no": psn_no,
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": idn,
                    "med_type": "11",
                    "medfee_sumamt": "40.00",
                    "psn_setlway": "01",
                    "mdtrt_id": mdtrt_id,
                    "chrg_bchno": "B1",
                    "insutype": "390",
                    "acct_used_flag": "0",
                }
            },
        )
        setl_ids.append((out["setlinfo"]["setl_id"], mdtrt_id, psn_no))
    setl_id, mdtrt_id, psn_no = setl_ids[0]
    h.call("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}})
    ask = {
        "insutype": "390",
        "clr_type": "11",
        "setl_optins": "530100",
        "stmt_begndate": "2023-03-10",
        "stmt_enddate": "2023-03-10",
        "medfee_sumamt": "80.00",
        "fund_pay_sumamt": "40.00",
        "acct_pay": "0.00",
        "fixmedins_setl_cnt": 2,
    }
    agree = h.call("3201", {"data": ask})["stmtinfo"]
    assert (agree["stmt_rslt"], agree["stmt_rslt_dscr"]) == ("0", "对账一致")
    differ = h.call("3201", {"data": ask | {"medfee_sumamt": "120.00", "fixmedins_setl_cnt": 3}})["stmtinfo"]
    assert differ["stmt_rslt"] == "1"
    assert differ["stmt_rslt_dscr"] == "医疗费总额不一致：机构 120.00，医保 80.00；结算笔数不一致：机构 3，医保 2"
