"""uvicorn's HTTP protocol with deadlines for reading a request: a slow client cannot hold a connection open.

uvicorn closes a kept-alive connection that stays idle between requests, but waits for ever for a
request that has begun: a client that opens connections and sends a request's head a byte at a time,
or its body, or nothing at all, keeps each open until the process runs out of file descriptors and
nobody else can connect (a "slowloris" attack). Here a request's head must arrive whole within
``YIBAO_HEAD_SECONDS`` of its first byte (or of the connection, for a connection that sends nothing),
and its body within ``YIBAO_BODY_SECONDS`` of its head; otherwise the answer is ``408`` (when nothing has
been answered yet) and the connection is closed. A connection that has sent nothing is closed without
an answer, as a proxy does: a client that opened it ahead of need must not read the 408 as the answer to
a request it is sending at that moment. A proxy in front (docs/deploy.md) has deadlines of its
own; these hold without one.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from yibao.api.errors import json_response
from yibao.core.errors import ErrorInfo
from yibao.core.settings import get_settings


def _timeout_answer() -> bytes:
    """The whole 408 answer, rendered as every error of the API is."""
    response = json_response(
        ErrorInfo(408, "request_timeout", "请求发送超时，连接已关闭", "the request did not arrive in time")
    )
    head = b"".join(b"%s: %s\r\n" % pair for pair in response.raw_headers)
    return b"HTTP/1.1 408 Request Timeout\r\n" + head + b"connection: close\r\n\r\n" + bytes(response.body)


_TIMEOUT = _timeout_answer()


class DeadlineProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that closes a connection whose request is not read in time (408)."""

    _deadline: asyncio.TimerHandle | None = None
    _reading = ""  # what of a request is being read: "" (none begun), "head" or "body"

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        settings = get_settings()
        self._head_seconds, self._body_seconds = settings.head_seconds, settings.body_seconds
        self._arm(self._head_seconds)  # a connection that never sends anything

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = "head"
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm(self._head_seconds)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._arm(self._body_seconds)
        super().on_headers_complete()
        self._reading = "body"

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading = ""
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        # A head cut short has had no answer yet; a body, unless the application answered without it.
        if self._reading == "head" or (self._reading == "body" and not self.cycle.response_started):
            self.transport.write(_TIMEOUT)
        self.transport.close()
