"""The national-interface sub-application, mounted at ``/fsi``: a bare ASGI app, no middleware of its own.

``POST /fsi/api/rsfComIfsService/callService`` and ``…/callService/{infno}``. The body is read as UTF-8
JSON whatever the ``Content-Type`` says, up to :data:`~yibao.nhsa.envelope.MAX_MESSAGE_BYTES`; the
message is answered by :func:`yibao.nhsa.gateway.handle` in a worker thread through the same database
gate as the REST API (so the two share each worker's connections fairly).
"""

from __future__ import annotations

import functools
import re
import uuid
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from yibao.api.deps import request_engine, run_in_db_thread
from yibao.core import clock
from yibao.core.errors import Unavailable
from yibao.nhsa import envelope, gateway
from yibao.nhsa.errors import NhsaError, Overloaded

PATH = "/api/rsfComIfsService/callService"
_ROUTE = re.compile(re.escape(PATH) + r"(?:/([^/]*))?/?")
_JSON = [(b"content-type", b"application/json; charset=utf-8")]


class GatewayApp:
    """ASGI application of the national interface."""

    def __init__(self) -> None:
        self.state = State()  # the database gate and engine when run on its own (mounted, the parent's are used)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        scope.setdefault("app", self)
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        match = _ROUTE.fullmatch(path)
        if match is None:
            await self._refuse(send, 404, NhsaError(f"接口地址不存在：{path[:100]}（应为 {PATH}）"))
            return
        if scope["method"] != "POST":
            await self._refuse(send, 405, NhsaError("国家接口只接受 POST 请求"))
            return
        path_infno = match.group(1) or None
        if path_infno is not None and not re.fullmatch(r"[0-9]{4}", path_infno):
            await self._refuse(send, 200, NhsaError(f"infno: 请求地址中的交易编号 {path_infno[:20]!r} 格式不正确"))
            return
        raw = await self._body(scope, receive)
        if raw is None:
            limit = envelope.MAX_MESSAGE_BYTES // 1024
            await self._refuse(send, 200, NhsaError(f"报文过大（上限 {limit} KB）", code="nhsa.too_large"))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        request = Request(scope)
        info = {
            "ip": scope["client"][0] if scope.get("client") else None,
            "request_id": (headers.get("x-request-id") or uuid.uuid4().hex)[:64],
            "method": "POST",
            "path": scope["path"][:256],
        }
        work = functools.partial(
            gateway.handle, request_engine(request), raw, headers, path_infno=path_infno, request=info
        )
        try:
            reply = await run_in_db_thread(request, work)
        except Unavailable:
            await self._refuse(send, 503, Overloaded("系统繁忙，请稍后用同一 msgid 重发"), {"retry-after": "1"})
            return
        await self._send(send, reply.status, reply.body, reply.headers)

    @staticmethod
    async def _body(scope: Scope, receive: Receive) -> bytes | None:
        """The body, or None when it is larger than the limit (not read further)."""
        limit = envelope.MAX_MESSAGE_BYTES
        for k, v in scope.get("headers") or []:
            if k.lower() == b"content-length" and (not v.isdigit() or int(v) > limit):
                return None
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        kind = [] if any(k == b"content-type" for k, _ in extra) else _JSON  # a file (9102) names its own
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*kind, (b"content-length", str(len(body)).encode()), *extra],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _refuse(self, send: Send, status: int, err: NhsaError, headers: dict[str, str] | None = None) -> None:
        now = clock.now()
        body = envelope.answer(output=None, admdvs="530000", received=now, responded=now, err_msg=err.err_msg)
        await self._send(send, status, envelope.render(body), headers)


def create_gateway() -> Any:
    """The national-interface application (mounted at ``/fsi`` by :func:`yibao.api.app.create_app`)."""
    return GatewayApp()
