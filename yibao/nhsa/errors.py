"""Refusals of the national interface and the one renderer of its envelopes.

A refusal is answered with ``infcode -1`` and an ``err_msg`` in Chinese that names what is wrong: for a
field, the node and field as the HIS sent them (``input.feedetail[3].det_item_fee_sumamt: 金额最多两位小数``),
for the envelope its field (``msgid: ...``), for the signature its header (``x-tif-nonce: ...``). Every
answer that has an envelope is HTTP 200, except signature failures (401) and an overloaded server (503).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from yibao.core.errors import AppError


class NhsaError(AppError):
    """A message refused: ``infcode -1`` with ``err_msg``; nothing of the message takes effect."""

    code = "nhsa.refused"
    http_status = 200

    def __init__(self, err_msg: str, message_en: str | None = None, *, code: str | None = None) -> None:
        super().__init__(err_msg, message_en or err_msg, code=code)
        self.err_msg = err_msg


class FieldError(NhsaError):
    """A field of the envelope or of ``input`` is missing, malformed or not allowed; ``path`` names it."""

    code = "nhsa.bad_field"

    def __init__(self, path: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{path}: {message}", code=code)
        self.path = path
        self.reason = message


class SignatureError(NhsaError):
    """The message is not authentic (unknown paasid, wrong signature, stale timestamp, reused nonce): HTTP 401."""

    code = "nhsa.signature"
    http_status = 401


class Overloaded(NhsaError):
    """The server cannot take the message now; nothing was done: HTTP 503, retry with the same msgid."""

    code = "nhsa.busy"
    http_status = 503
    retry_after = 1


def _encode(value: Any, out: list[str]) -> None:
    # Amounts are Decimals and go out as JSON numbers with their exact digits ("12.30"), never via a float.
    if isinstance(value, Decimal):
        out.append(format(value, "f"))
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def to_json(value: Any) -> str:
    """JSON text of an answer: Decimals as exact numbers, everything else as :func:`json.dumps` writes it."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)
