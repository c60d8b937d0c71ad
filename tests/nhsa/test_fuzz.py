"""Generated envelopes and payloads: never a 500, always an envelope, and a refusal writes nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.nhsa.conftest import Gateway, writes
from tests.nhsa.helpers import create_insured

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["null", "NULL", "", "0", "01", "02", "03", "390", "310", "11", "2101", "2023-02-30",
                       "2023-05-01", "2023-05-01 09:00:00", "202305", "１２", "12.345", "-1", "99999999.99"])
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)

NODES = {
    "9001": ("signIn", ["opter_no", "mac", "ip"]),
    "9002": ("signOut", ["sign_no", "opter_no"]),
    "1101": (
        "data",
        ["mdtrt_cert_type", "mdtrt_cert_no", "card_sn", "begntime", "psn_cert_type", "certno", "psn_name"],
    ),
    "2001": ("data", ["psn_no", "insutype", "fixmedins_code", "med_type", "begntime", "mdtrt_cert_type"]),
    "1312": ("data", ["query_date", "hilist_code", "updt_time", "page_num", "page_size"]),
    "5206": ("data", ["psn_no", "cum_ym"]),
}
ENVELOPE_FIELDS = [
    "infno",
    "msgid",
    "fixmedins_code",
    "inf_time",
    "input",
    "sign_no",
    "insuplc_admdvs",
    "opter",
    "opter_type",
]


@st.composite
def messages(draw: st.DrawFn, known: dict[str, str]) -> tuple[dict[str, Any] | bytes, str | None]:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=60)), None
    infno = draw(st.sampled_from([*NODES, "9999", "abcd", "2201"]))
    node, fields = NODES.get(infno, ("data", ["psn_no"]))
    values = st.one_of(JSON, st.sampled_from(list(known.values())))
    payload = {f: draw(values) for f in draw(st.lists(st.sampled_from(fields), unique=True))}
    body: dict[str, Any] = {
        "infno": infno,
        "msgid": draw(st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=30)),
        "fixmedins_code": known["code"],
        "inf_time": "2024-01-01 10:00:00",
        "input": {node: payload} if draw(st.booleans()) else draw(JSON),
    }
    for field in draw(st.lists(st.sampled_from(ENVELOPE_FIELDS), unique=True, max_size=3)):
        if draw(st.booleans()):
            body.pop(field, None)
        else:
            body[field] = draw(values)
    tamper = draw(st.sampled_from([None, None, None, "x-tif-signature", "x-tif-nonce", "x-tif-timestamp"]))
    return body, tamper


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_generated_messages(gw: Gateway, data: st.DataObject) -> None:
    if not hasattr(gw, "known"):
        idn, psn_no = create_insured(gw.engine)
        gw.known = {"code": gw.creds.code, "idn": idn, "psn_no": psn_no}  # type: ignore[attr-defined]
    body, tamper = data.draw(messages(gw.known))  # type: ignore[attr-defined]
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=bool(data.draw(st.booleans())))
    headers = {tamper: "0" * 64} if tamper == "x-tif-signature" else {tamper: "1"} if tamper else {}
    before = writes(gw.engine)
    r = gw.raw(raw, headers=headers)
    assert r.status_code in (200, 401), r.text
    answer = r.json()
    assert answer["infcode"] in (0, -1)
    if answer["infcode"] == -1:
        assert answer["err_msg"] and answer["output"] is None
        assert writes(gw.engine) == before, answer["err_msg"]
    else:
        assert answer["err_msg"] is None and isinstance(answer["output"], dict)
