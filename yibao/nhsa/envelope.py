"""Request and response envelopes of the national interface.

A request is one JSON object (UTF-8, whatever the ``Content-Type`` says) naming its transaction
(``infno``), its message id (``msgid``), the institution (``fixmedins_code``), the time it was sent
(``inf_time``) and the payload nodes (``input``); those five are required, every other envelope field is
optional, and the string ``"null"`` (any case) or ``""`` counts as absent. Amounts are parsed as exact
decimals from their literal text. An answer carries ``infcode`` (0 or -1; ``"0"``/``"-1"`` for an
institution registered with the string option), ``inf_refmsgid`` (admdvs 6 + yyyyMMddHHmmss 14 +
serial 10), ``refmsg_time`` and ``respond_time`` (``yyyyMMddHHmmssSSS``, China time), ``err_msg`` (null on
success), ``warn_msg``, ``cainfo``, ``signtype``, ``enctype`` and ``output``.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.api.guard import MAX_DEPTH, too_deep
from yibao.core.dates import CHINA_TZ
from yibao.nhsa import money
from yibao.nhsa.errors import FieldError, NhsaError, to_json
from yibao.nhsa.payload import absent, check_text

# Operational limit (assumed): a message is a few KB; the largest legitimate ones are batches of fee lines
# and reconciliation files (base64 in 9101), far below this.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
MSGID_MAX = 30
_INFNO = r"[0-9]{4}"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """The message body as JSON, numbers with a fraction as exact Decimals; NhsaError when it is not JSON."""
    if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark some Windows clients put first
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NhsaError("报文不是有效的UTF-8编码", code="nhsa.bad_json") from None
    if too_deep(raw):
        raise NhsaError(f"报文嵌套层次过深（上限 {MAX_DEPTH} 层）", code="nhsa.bad_json")
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except ValueError as exc:
        raise NhsaError(f"报文不是有效的JSON：{str(exc)[:120]}", code="nhsa.bad_json") from None


def _lone_surrogate(value: Any, where: str) -> str | None:
    """Where a text holds a NUL or a lone surrogate (never storable, never meaningful), if anywhere."""
    if isinstance(value, str):
        if "\x00" in value:
            return where
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _lone_surrogate(k, where) or _lone_surrogate(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _lone_surrogate(v, f"{where}[{i}]")
            if found:
                return found
    return None


@dataclass(frozen=True, slots=True)
class Envelope:
    """The request envelope, read: required fields present and well-formed, optional ones None when absent."""

    infno: str
    msgid: str
    fixmedins_code: str
    inf_time: datetime
    input: dict[str, Any]
    fixmedins_name: str | None = None
    mdtrtarea_admvs: str | None = None
    insuplc_admdvs: str | None = None
    recer_sys_code: str | None = None
    dev_no: str | None = None
    dev_safe_info: str | None = None
    cainfo: str | None = None
    signtype: str | None = None
    infver: str | None = None
    opter_type: str | None = None
    opter: str | None = None
    opter_name: str | None = None
    sign_no: str | None = None


def _required(body: dict[str, Any], name: str, *, max_len: int, pattern: str | None = None) -> str:
    value = body.get(name)
    if absent(value):
        raise FieldError(name, "必填项缺失")
    return check_text(value, name, max_len=max_len, pattern=pattern)


def _optional(body: dict[str, Any], name: str, *, max_len: int, pattern: str | None = None) -> str | None:
    value = body.get(name)
    if absent(value):
        return None
    return check_text(value, name, max_len=max_len, pattern=pattern)


def read_infno(body: Any) -> str | None:
    """The transaction number of a parsed body, if it names a well-formed one (for audit and routing)."""
    if isinstance(body, dict):
        value = body.get("infno")
        if isinstance(value, str | int) and not isinstance(value, bool) and re.fullmatch(_INFNO, str(value).strip()):
            return str(value).strip()
    return None


def read_envelope(body: Any) -> Envelope:
    """Check the envelope of a parsed body; FieldError naming the first field at fault."""
    if not isinstance(body, dict):
        raise NhsaError("报文应为JSON对象", code="nhsa.bad_json")
    bad = _lone_surrogate(body, "")
    if bad is not None:
        raise FieldError(bad or "报文", "含有NUL字符或无效的Unicode代理字符")
    infno = _required(body, "infno", max_len=4, pattern=_INFNO)
    msgid = _required(body, "msgid", max_len=MSGID_MAX, pattern=r"[\x21-\x7e]+")
    code = _required(body, "fixmedins_code", max_len=30)
    value = body.get("inf_time")
    if absent(value):
        raise FieldError("inf_time", "必填项缺失")
    inf_time = money.read_datetime(value, "inf_time", date_only=False)
    payload = body.get("input")
    if absent(payload):
        raise FieldError("input", "必填项缺失")
    if not isinstance(payload, dict):
        raise FieldError("input", "应为对象（JSON object）")
    region = r"[0-9]{6}"
    return Envelope(
        infno=infno,
        msgid=msgid,
        fixmedins_code=code,
        inf_time=inf_time,
        input=payload,
        fixmedins_name=_optional(body, "fixmedins_name", max_len=200),
        mdtrtarea_admvs=_optional(body, "mdtrtarea_admvs", max_len=6, pattern=region),
        insuplc_admdvs=_optional(body, "insuplc_admdvs", max_len=6, pattern=region),
        recer_sys_code=_optional(body, "recer_sys_code", max_len=20),
        dev_no=_optional(body, "dev_no", max_len=100),
        dev_safe_info=_optional(body, "dev_safe_info", max_len=2000),
        cainfo=_optional(body, "cainfo", max_len=2000),
        signtype=_optional(body, "signtype", max_len=10),
        infver=_optional(body, "infver", max_len=10),
        opter_type=_optional(body, "opter_type", max_len=3),
        opter=_optional(body, "opter", max_len=30),
        opter_name=_optional(body, "opter_name", max_len=50),
        sign_no=_optional(body, "sign_no", max_len=32),
    )


# ---- answers ---------------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` in China time."""
    local = moment.astimezone(CHINA_TZ)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"


def refmsgid(admdvs: str, moment: datetime) -> str:
    """An answer's own id: admdvs 6 + yyyyMMddHHmmss 14 + a serial of 10 random digits."""
    local = moment.astimezone(CHINA_TZ)
    return f"{admdvs}{local:%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def answer(
    *,
    output: Any,
    admdvs: str,
    received: datetime,
    responded: datetime,
    err_msg: str | None = None,
    warn_msg: str | None = None,
    infcode_string: bool = False,
) -> dict[str, Any]:
    """A response envelope (``infcode`` 0 without ``err_msg``, -1 with one)."""
    code = 0 if err_msg is None else -1
    return {
        "infcode": str(code) if infcode_string else code,
        "inf_refmsgid": refmsgid(admdvs, responded),
        "refmsg_time": stamp(received),
        "respond_time": stamp(responded),
        "err_msg": err_msg,
        "warn_msg": warn_msg,
        "cainfo": None,
        "signtype": None,
        "enctype": None,
        "output": output,
    }


def render(envelope: dict[str, Any]) -> bytes:
    """The JSON bytes of an answer (amounts as exact decimal numbers)."""
    return to_json(envelope).encode("utf-8")
