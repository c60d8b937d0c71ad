"""Fixtures of the national-interface tests: an institution and a HIS client on the real application."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from tests.nhsa.helpers import Creds, create_institution, his
from yibao.his import Client
from yibao.nhsa.app import PATH
from yibao.nhsa.signature import sign

URL = f"/fsi{PATH}"


@dataclass
class Gateway:
    """The application under test, one institution and its HIS client."""

    http: Any  # the TestClient
    engine: Engine
    creds: Creds
    his: Client

    def raw(
        self,
        body: bytes | str | dict[str, Any],
        *,
        creds: Creds | None = None,
        headers: dict[str, str] | None = None,
        path: str = URL,
        nonce: str | None = None,
        timestamp: str | None = None,
        secret: str | None = None,
    ) -> Any:
        """POST a body as given, signed for ``creds`` (headers may override any header)."""
        c = creds or self.creds
        ts = timestamp or str(int(time.time()))
        nonce = nonce or uuid.uuid4().hex
        signed = {
            "x-tif-paasid": c.paasid,
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": sign(ts, secret or c.secret, nonce),
        }
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.http.post(path, content=body, headers={**signed, **(headers or {})})

    def envelope(self, infno: str, payload: Any, /, creds: Creds | None = None, **fields: Any) -> dict[str, Any]:
        """A well-formed envelope of ``creds``' institution."""
        c = creds or self.creds
        body = self.his.envelope(infno, payload, fixmedins_code=c.code)
        if creds is not None:
            body["msgid"] = creds.code + body["msgid"][12:]
        body.update(fields)
        return body

    def count(self, table: str, where: str = "1=1") -> int:
        """Rows of a table (for "nothing was written")."""
        with self.engine.connect() as conn:
            return int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}")) or 0)


@pytest.fixture
def gw(api_client: Any, engine: Engine) -> Iterator[Gateway]:
    """A Kunming level-3 hospital and its HIS client on the application."""
    creds = create_institution(engine)
    yield Gateway(api_client, engine, creds, his(api_client, creds))


def writes(engine: Engine) -> dict[str, int]:
    """Row counts of everything a message may write (its audit record aside)."""
    from yibao.core.idempotency import IdempotencyRecord
    from yibao.nhsa.models import SignIn

    with engine.connect() as conn:
        return {
            "signins": int(conn.scalar(select(func.count()).select_from(SignIn)) or 0),
            "signed_out": int(conn.scalar(select(func.count()).where(SignIn.signed_out_at.is_not(None))) or 0),
            "msgids": int(
                conn.scalar(select(func.count()).where(IdempotencyRecord.source.like("institution:%/fsi"))) or 0
            ),
            "nonces": int(conn.scalar(text("SELECT count(*) FROM nhsa_nonces")) or 0),
        }
