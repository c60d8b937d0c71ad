"""A signed HIS session end to end through the client on the ASGI app (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.nhsa.helpers import create_institution, create_insured, his, load_demo_catalogue
from yibao.his import HisError


def test_signed_session(api_client: Any, engine: Engine) -> None:
    load_demo_catalogue(engine)
    creds = create_institution(engine)
    idn, psn_no = create_insured(engine)
    c = his(api_client, creds)
    sign_no = c.sign_in("001")
    assert len(sign_no) == 24
    out = c.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn, "certno": "", "psn_name": "null"}})
    assert out["baseinfo"]["psn_no"] == psn_no
    assert [i["insutype"] for i in out["insuinfo"]] == ["390"]
    out = c.call(
        "2001", {"data": {"psn_no": psn_no, "insutype": "390", "med_type": "11", "begntime": "2023-05-01 09:00:00"}}
    )
    assert {r["trt_enjymnt_flag"] for r in out["trtinfo"]} == {"1"}
    page = c.call("1312", {"data": {"query_date": "2024-01-01", "page_num": 1, "page_size": 20}})
    assert page["pageNum"] == 1 and page["pageSize"] == 20 and page["size"] == 20 and page["recordCounts"] >= 300
    row = page["data"][0]
    assert set(row) == {
        "hilist_code",
        "hilist_name",
        "insu_admdvs",
        "begndate",
        "enddate",
        "med_chrgitm_type",
        "chrgitm_lv",
        "lmt_used_flag",
        "list_type",
        "pric_uplmt_amt",
    }
    one = c.call("1312", {"data": {"hilist_code": "XJ01CAA001A002010100008", "query_date": "2024-01-01"}})
    assert one["recordCounts"] == 1 and one["data"][0]["pric_uplmt_amt"] == Decimal("8.50")
    out = c.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202305"}})
    assert {r["cum_type_code"] for r in out["cuminfo"]} == {
        "FUND_PAID",
        "CATA_BASE",
        "GEN_OUTP_PAID",
        "SPEC_OUTP_MONTH",
    }
    assert {r["cum"] for r in out["cuminfo"]} == {Decimal("0.00")}
    c.sign_out()
    with pytest.raises(HisError, match="不支持的交易 infno=9999"):
        c.call("9999", {})


def test_catalogue_query_refusals(api_client: Any, engine: Engine) -> None:
    c = his(api_client, create_institution(engine))
    for data, err in (
        ({"page_num": 0}, "input.data.page_num: 应在 1 至 100000 之间"),
        ({"page_size": 1001}, "input.data.page_size: 应在 1 至 1000 之间"),
        ({"query_date": "2023-02-30"}, "input.data.query_date: 日期不存在：2023-02-30"),
        ({"updt_time": "2023-01-01 25:00:00"}, "input.data.updt_time: 时间不存在"),
    ):
        answer = c.send("1312", {"data": data})
        assert answer.err_msg is not None and answer.err_msg.startswith(err), answer.err_msg
