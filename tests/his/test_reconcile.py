"""Reconciliation of details from a CSV of the hospital's settlements, as ``yibao his reconcile`` drives it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.claims.helpers import cn, settled_stays
from tests.nhsa.helpers import create_institution, his
from yibao.core import clock
from yibao.his import reconcile as recon


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 31, 18))):
        yield


def test_a_csv_is_uploaded_reconciled_and_the_result_read(api_client: Any, engine: Engine, tmp_path: Path) -> None:
    creds = create_institution(engine)
    agree, differ, missing = settled_stays(engine, creds.code, creds.region, 3, reverse={0})
    csv = tmp_path / "settlements.csv"
    rows = [
        "invoice,setl_id,mdtrt_id,psn_no,medfee_sumamt,fund_pay_sumamt,acct_pay,refd_setl_flag",
        f"F1,{agree.setl_id},{agree.mdtrt_id},{agree.psn_no},7300.00,{agree.fund},0.00,1",
        f"F2,{differ.setl_id},{differ.mdtrt_id},{differ.psn_no},7300.00,{differ.fund},12.00,",
    ]
    csv.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    read = recon.read_rows(csv)
    assert [r["refd_setl_flag"] for r in read] == ["1", "0"] and "invoice" not in read[0]
    assert recon.totals(read) == {
        "medfee_sumamt": Decimal("7300.00"),
        "fund_pay_sumamt": Decimal(differ.fund),
        "cash_payamt": Decimal("7300.00") - Decimal(differ.fund) - Decimal("12.00"),
        "fixmedins_setl_cnt": 1,
    }
    with zipfile.ZipFile(io.BytesIO(recon.detail_file(read))) as z:
        assert z.read("detail.txt").decode().splitlines()[0] == agree.line(flag="1")

    result = recon.reconcile(
        his(api_client, creds), read, begin=date(2023, 3, 1), end=date(2023, 3, 31), clr_type="21", setl_optins="530100"
    )
    assert result.fileinfo["filename"] == f"3202_{creds.code}_20230301_20230331.zip"
    assert [(r["fixmedins_setl_id"], r["yibao_setl_id"], r["reason"]) for r in result.rows] == [
        (differ.setl_id, differ.setl_id, "金额不符 acct_pay"),
        ("null", missing.setl_id, "机构未上传"),
    ]
    assert result.rows[0]["fixmedins_acct_pay"] == "12.00" and result.rows[0]["yibao_acct_pay"] == "0.00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "setl_id,mdtrt_id,psn_no,medfee_sumamt\nS1,M1,P1,1.00\n",
            "缺少列 / missing columns: fund_pay_sumamt, acct_pay",
        ),
        (
            "setl_id,mdtrt_id,psn_no,medfee_sumamt,fund_pay_sumamt,acct_pay\nS1,M1,P1,1.00,x,0\n",
            "第2行 fund_pay_sumamt: 不是金额",
        ),
    ],
)
def test_a_bad_csv_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(recon.RowsError, match=message):
        recon.read_rows(path)
