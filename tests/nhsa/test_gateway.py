"""The gateway end to end through the HIS client on the ASGI app (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.nhsa.helpers import create_institution, create_insured, his
from yibao.his import HisError


def test_signed_session(api_client: Any, engine: Engine) -> None:
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
    out = c.call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202305"}})
    assert {r["cum_type_code"] for r in out["cuminfo"]} == {
        "FUND_PAID",
        "CATA_BASE",
        "GEN_OUTP_PAID",
        "SPEC_OUTP_MONTH",
    }
    c.sign_out()
    with pytest.raises(HisError, match="不支持的交易 infno=9999"):
        c.call("9999", {})
