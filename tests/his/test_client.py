"""The HIS client: message ids as the convention numbers them, signed headers, refusals raised."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from yibao.core import clock
from yibao.his import Client, HisError


def test_msgids_and_signature() -> None:
    c = Client("http://x", "H53010000001", "yb_H53010000001", "s3cret")
    with clock.use(clock.FixedClock(datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC))):
        ids = [c.next_msgid() for _ in range(3)]
        headers = c.headers(nonce="abc")
        body = c.envelope("1101", {"data": {}})
    prefix = "H53010000001" + "20240301100304"
    assert all(i.startswith(prefix) for i in ids)
    first = int(ids[0][-4:])
    assert [int(i[-4:]) for i in ids] == [(first + n) % 10_000 for n in range(3)]
    assert all(len(i) == 30 for i in ids)
    ts = str(int(datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC).timestamp()))
    assert headers["x-tif-timestamp"] == ts
    assert headers["x-tif-signature"] == hashlib.sha256(f"{ts}s3cretabc{ts}".encode()).hexdigest()
    assert body["inf_time"] == "2024-03-01 10:03:04" and body["fixmedins_code"] == "H53010000001"
    assert re.fullmatch(r"H53010000001[0-9]{18}", body["msgid"])


def test_two_clients_of_one_institution_never_share_a_msgid_in_one_second() -> None:
    a, b = (Client("http://x", "H53010000001", "yb_H53010000001", "s") for _ in range(2))
    with clock.use(clock.FixedClock(datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC))):
        ids = [c.next_msgid() for _ in range(50) for c in (a, b)]
    assert len(set(ids)) == len(ids)


def _answering(envelope: dict[str, Any], status: int = 200) -> Client:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=envelope))
    return Client("http://x", "H53010000001", "yb_H53010000001", "s", transport=transport)


def test_refusals_raise() -> None:
    with pytest.raises(HisError, match="不支持的交易") as err:
        _answering({"infcode": -1, "err_msg": "不支持的交易 infno=9999", "output": None}).call("9999", {})
    assert err.value.answer is not None and err.value.answer.status == 200
    with pytest.raises(HisError, match="签名不正确"):
        _answering({"infcode": "-1", "err_msg": "x-tif-signature: 签名不正确"}, 401).call("9001", {})
    assert _answering({"infcode": "0", "output": {"a": 1}}).call("9001", {}) == {"a": 1}
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(HisError, match="应答不是JSON"):
        Client("http://x", "C", "P", "S", transport=transport).call("9001", {})
