"""Input the application never lets through: oversized bodies, deep nesting, NUL characters and broken Unicode.

A pure ASGI middleware in front of everything: a body over :data:`MAX_BODY_BYTES` gets 413 before it
is read in full; a JSON body nested deeper than :data:`MAX_DEPTH` gets 422 before any parser sees it
(parsers recurse, and a thousand brackets would exhaust the stack); a path, query or JSON body
carrying a NUL character or a lone surrogate (neither can be stored, and neither is ever meaningful
in this domain) gets 422 naming where it was found.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.api.errors import RequestTooLarge, error_info, json_response
from yibao.core.errors import AppError, ValidationFailed

# Operational limit (assumed): the largest legitimate request is a claim with its bill lines, far below this.
MAX_BODY_BYTES = 1_048_576
# Operational limit (assumed): legitimate bodies (a claim with its bill lines) nest a few levels, far below this.
MAX_DEPTH = 32

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


# Characters no text in this domain carries, in any field: C0/C1 controls other than tab and line breaks,
# format characters (bidi overrides such as U+202E, zero-width spaces and joiners, the BOM, soft hyphen),
# private-use code points and the line/paragraph separators. They make one text look like another (a name
# shown reversed, a number split invisibly) and are refused with the field named, nothing written.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff]"
)


def _bad_char(value: str) -> str | None:
    """The first character of ``value`` that no field may hold (NUL, a lone surrogate, a control...)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return value[exc.start]
    found = _INVISIBLE.search(value)
    return found.group() if found else None


def nesting_depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects, read without parsing (so without recursion).

    Escapes go first (a backslash and the byte after it), then whatever stands between quotes; the
    brackets left are structure. Where the text is not JSON (a backslash outside a string) the count
    may differ from a parser's, but only after the point where any parser stops with an error.
    """
    outside = b"".join(_ESCAPE.sub(b"", body).split(b'"')[::2])
    steps = outside.translate(_STEP, _NOT_BRACKET)  # +1 for each opening bracket, -1 (0xFF) for each closing one
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether a body nests deeper than ``limit`` (a body with fewer brackets than that cannot)."""
    return body.count(b"[") + body.count(b"{") > limit and nesting_depth(body) > limit


def _find_bad(value: Any, where: str) -> tuple[str, str] | None:
    """Where (a field path, as the other validation errors name fields) and what the first bad character is."""
    if isinstance(value, str):
        ch = _bad_char(value)
        return (where or "body", ch) if ch is not None else None
    if isinstance(value, dict):
        for k, v in value.items():
            ch = _bad_char(str(k))
            if ch is not None:
                return (f"{where}.{k!r}" if where else repr(k), ch)
            found = _find_bad(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _find_bad(v, f"{where}[{i}]" if where else f"body[{i}]")
            if found:
                return found
    return None


class InputGuard:
    """ASGI middleware: size limit and clean text for every HTTP request."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_body = max_body
        self.skip = skip  # path prefixes of sub-applications that check their own input (the national interface)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.skip and scope["path"].startswith(self.skip)):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._checked_body(scope, receive)
        except AppError as refused:
            await json_response(error_info(refused))(scope, receive, send)
            return
        if body is None:
            return  # the client went away
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _checked_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body once path, query and body pass every check; an AppError naming the first defect."""
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        for part, name in ((raw_path, "path"), (scope.get("query_string", b""), "query")):
            decoded = unquote_to_bytes(part)
            if b"\x00" in decoded:
                raise ValidationFailed(name, "含有非法字符", "NUL character")
            try:
                decoded.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed(name, "编码无效", "invalid UTF-8") from None
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            raise self._too_large()
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                raise self._too_large()
        content_type = headers.get(b"content-type", b"")
        # FastAPI reads a body without a content type as JSON too.
        if body and (b"json" in content_type or not content_type) and too_deep(body):
            raise ValidationFailed(
                "body", f"嵌套层次过深（上限 {MAX_DEPTH} 层）", f"nested too deeply (limit {MAX_DEPTH} levels)"
            )
        if body and b"json" in content_type:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed("body", "编码无效", "invalid UTF-8") from None
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None  # FastAPI answers malformed JSON with 422 itself
            bad = _find_bad(parsed, "") if parsed is not None else None
            if bad:
                field, ch = bad
                code = f"U+{ord(ch):04X}"
                raise ValidationFailed(
                    field,
                    f"含有不可见或控制字符 {code}（如换行、零宽字符、文字方向控制符）",
                    f"contains an invisible or control character {code} (NUL, zero-width, bidi override...)",
                )
        return body

    def _too_large(self) -> RequestTooLarge:
        limit = self.max_body // 1024
        return RequestTooLarge(f"请求内容过大（上限 {limit} KB）", f"request body too large (limit {limit} KB)")
