"""Per-request dependencies: the caller (from the bearer token) and the unit of work acting for them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from yibao.core.auth import ANONYMOUS, act_as
from yibao.core.db import unit_of_work
from yibao.core.errors import Unauthenticated
from yibao.core.ratelimit import limits_of


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("登录凭证格式不正确", "use 'Authorization: Bearer <token>'", code="auth.invalid_token")
    return token.strip()


def request_info(request: Request) -> dict[str, str | None]:
    """Where a request came from, for the audit log."""
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex
    return {
        "ip": request.client.host if request.client else None,
        "request_id": rid[:64],
        "method": request.method,
        "path": request.url.path,
    }


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, acting for the caller; committed only if the request succeeds."""
    from yibao.identity.service import principal_from_token

    info = request_info(request)
    engine = getattr(request.app.state, "engine", None)  # set when the app serves another database (tests)
    with unit_of_work(engine, principal=ANONYMOUS) as session:
        act_as(session, ANONYMOUS, **info)  # where the request came from, before a rejected token is audited
        token = bearer_token(request)
        if token:
            act_as(session, principal_from_token(session, token, limits_of(request.app.state)), **info)
        yield session
