"""Refusals of the national interface and the one renderer of its envelopes.

A refusal is answered with ``infcode -1`` and an ``err_msg`` in Chinese that names what is wrong: for a
field, the node and field as the HIS sent them (``input.feedetail[3].det_item_fee_sumamt: 金额最多两位小数``),
for the envelope its field (``msgid: ...``), for the signature its header (``x-tif-nonce: ...``). Every
answer that has an envelope is HTTP 200, except signature failures (401) and an overloaded server (503).
"""

from __future__ import annotations

from typing import Any

import simplejson

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


def to_json(value: Any) -> str:
    """JSON text of an answer: Decimals as exact numbers ("12.30", never via a float), the rest as JSON writes it.

    simplejson's C encoder writes a Decimal as its own digits; amounts are quantized to the fen, so they
    come out in plain notation.
    """
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
