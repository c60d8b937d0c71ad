"""Who sent a message: headers, signature, clock window, nonces, the envelope's institution (HTTP 401)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.nhsa.conftest import URL, Gateway, writes
from tests.nhsa.helpers import create_institution
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.institutions import service as institutions
from yibao.nhsa.signature import sign

SIGN_IN = {"signIn": {"opter_no": "001"}}


def _refused(r: object, status: int, fragment: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["infcode"] == -1 and body["output"] is None
    assert fragment in body["err_msg"], body["err_msg"]


def test_a_signed_message_passes(gw: Gateway) -> None:
    r = gw.raw(gw.envelope("9001", SIGN_IN))
    assert r.status_code == 200 and r.json()["infcode"] == 0 and r.json()["err_msg"] is None


def _nonce(kind: str) -> str:
    return {
        "1 digit": str(secrets.randbelow(10)),
        "10 digits": f"{secrets.randbelow(10**10):010d}",
        "guid": str(uuid.uuid4()),
        "GUID": str(uuid.uuid4()).upper(),
        "64 characters": secrets.token_hex(32),
        "punctuation": f"a-b_c.d~{secrets.token_hex(4)}",
    }[kind]


@pytest.mark.parametrize("kind", ["1 digit", "10 digits", "guid", "GUID", "64 characters", "punctuation"])
def test_nonces_real_clients_send(gw: Gateway, kind: str) -> None:
    nonce = _nonce(kind)
    # A one-digit nonce can be used once per window: pick one not used yet in this test database.
    while kind == "1 digit" and gw.count("nhsa_nonces", f"paasid = '{gw.creds.paasid}' AND nonce = '{nonce}'"):
        nonce = _nonce(kind)
    r = gw.raw(gw.envelope("9001", SIGN_IN), nonce=nonce)
    assert r.json()["infcode"] == 0, r.text


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_signature_hex_in_any_case_and_headers_in_any_case(gw: Gateway, case: Callable[[str], str]) -> None:
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    headers = {
        "X-TIF-PAASID": gw.creds.paasid,
        "X-Tif-Timestamp": ts,
        "x-TIF-nonce": nonce,
        "X-Tif-Signature": case(sign(ts, gw.creds.secret, nonce)),
    }
    body = json.dumps(gw.envelope("9001", SIGN_IN)).encode()
    r = gw.http.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json()["infcode"] == 0, r.text


def test_the_signature_covers_the_nonce(gw: Gateway) -> None:
    ts = str(int(time.time()))
    r = gw.raw(
        gw.envelope("9001", SIGN_IN),
        headers={"x-tif-signature": sign(ts, gw.creds.secret, "n1"), "x-tif-timestamp": ts, "x-tif-nonce": "n2"},
    )
    _refused(r, 401, "x-tif-signature: 签名不正确")


def test_wrong_signature_writes_nothing(gw: Gateway) -> None:
    before = writes(gw.engine)
    _refused(gw.raw(gw.envelope("9001", SIGN_IN), secret="not-the-secret"), 401, "x-tif-signature: 签名不正确")
    assert writes(gw.engine) == before


def test_secret_of_another_institution(gw: Gateway) -> None:
    other = create_institution(gw.engine)
    _refused(gw.raw(gw.envelope("9001", SIGN_IN), secret=other.secret), 401, "签名不正确")


def test_unknown_paasid(gw: Gateway) -> None:
    r = gw.raw(gw.envelope("9001", SIGN_IN), headers={"x-tif-paasid": "yb_NOBODY"})
    _refused(r, 401, "x-tif-paasid: 未登记的接入账号 yb_NOBODY")


@pytest.mark.parametrize("missing", ["x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"])
def test_missing_header(gw: Gateway, missing: str) -> None:
    r = gw.raw(gw.envelope("9001", SIGN_IN), headers={missing: ""})
    _refused(r, 401, f"{missing}: 缺少请求头")


@pytest.mark.parametrize(("offset", "ok"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_clock_window(gw: Gateway, offset: int, ok: bool) -> None:
    at = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    with clock.use(clock.FixedClock(at)):
        r = gw.raw(gw.envelope("9001", SIGN_IN), timestamp=str(int(at.timestamp()) + offset))
    if ok:
        assert r.json()["infcode"] == 0, r.text
    else:
        _refused(r, 401, "x-tif-timestamp: 时间戳与服务器时间相差超过300秒")


def test_window_follows_the_server_clock(gw: Gateway) -> None:
    at = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    with clock.use(clock.FixedClock(at)):
        ok = gw.raw(gw.envelope("9001", SIGN_IN), timestamp=str(int(at.timestamp())))
        late = gw.raw(gw.envelope("9001", SIGN_IN), timestamp=str(int((at - timedelta(seconds=400)).timestamp())))
        ms = gw.raw(gw.envelope("9001", SIGN_IN), timestamp=str(int(at.timestamp() * 1000)))
    assert ok.json()["infcode"] == 0
    _refused(late, 401, "x-tif-timestamp")
    assert ms.json()["infcode"] == 0  # 13 digits: milliseconds


def test_reused_nonce_is_refused(gw: Gateway) -> None:
    nonce = uuid.uuid4().hex
    assert gw.raw(gw.envelope("9001", SIGN_IN), nonce=nonce).json()["infcode"] == 0
    before = writes(gw.engine)
    _refused(gw.raw(gw.envelope("9001", SIGN_IN), nonce=nonce), 401, "x-tif-nonce: 随机串已使用")
    assert writes(gw.engine) == before
    # The same nonce is another institution's to use.
    other = create_institution(gw.engine)
    assert gw.raw(gw.envelope("9001", SIGN_IN, creds=other), creds=other, nonce=nonce).json()["infcode"] == 0


def test_replayed_bytes_are_refused(gw: Gateway) -> None:
    body = gw.envelope("9001", SIGN_IN)
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    first = gw.raw(body, timestamp=ts, nonce=nonce)
    again = gw.raw(body, timestamp=ts, nonce=nonce)
    assert first.json()["infcode"] == 0
    _refused(again, 401, "随机串已使用")


def test_envelope_institution_must_be_the_paasids(gw: Gateway) -> None:
    other = create_institution(gw.engine)
    before = writes(gw.engine)
    r = gw.raw(gw.envelope("9001", SIGN_IN, fixmedins_code=other.code))
    _refused(r, 401, f"fixmedins_code: {other.code} 不是接入账号 {gw.creds.paasid} 所属的定点医药机构")
    assert writes(gw.engine) == before


def test_rotated_secret(gw: Gateway) -> None:
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        _, new = institutions.rotate_secret(s, gw.creds.code)
    _refused(gw.raw(gw.envelope("9001", SIGN_IN)), 401, "签名不正确")
    assert gw.raw(gw.envelope("9001", SIGN_IN), secret=new).json()["infcode"] == 0


def test_platform_style_paasid(gw: Gateway) -> None:
    creds = create_institution(gw.engine, paasid=f"1{uuid.uuid4().hex[:15]}")
    assert gw.raw(gw.envelope("9001", SIGN_IN, creds=creds), creds=creds).json()["infcode"] == 0
