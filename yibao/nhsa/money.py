"""The exact readers of the national interface: money, quantities, dates and times as HIS send them.

Money comes as a JSON number or a numeric string, in yuan with at most two decimals, below 100,000,000 in
magnitude, negative only where the convention allows it (refund fee lines, reversal answers). JSON numbers
are parsed as :class:`~decimal.Decimal` from their literal text (``json.loads(..., parse_float=Decimal)``,
see :func:`yibao.nhsa.envelope.parse_json`), so no amount ever passes through a binary float. Quantities
(``cnt``) take up to four decimals. Dates are ``yyyy-MM-dd``, times ``yyyy-MM-dd HH:mm:ss`` in China time;
a date that does not exist (2023-02-30) and digits other than ASCII 0-9 are refused. Every reader raises
:class:`~yibao.nhsa.errors.FieldError` naming the field's path.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from yibao.core.dates import CHINA_TZ
from yibao.nhsa.errors import FieldError

# The convention's bound on amounts: |x| < 100,000,000 yuan.
MONEY_LIMIT = 100_000_000
MONEY_PLACES = 2
QUANTITY_PLACES = 4

_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})")
_COMPACT_TIME = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-?([0-9]{2})")
_MAX_TEXT = 40  # a numeric string longer than this is no amount the convention knows


def _non_ascii(value: str, path: str) -> None:
    for ch in value:
        if not ch.isascii():
            kind = "数字" if ch.isnumeric() else "字符"
            raise FieldError(path, f"只能使用半角{kind}（ASCII 0-9），不接受 {ch!r}（U+{ord(ch):04X}）")


def _as_decimal(value: object, path: str, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise FieldError(path, f"{what}应为数值或数值字符串")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldError(path, f"{what}应为有限数值")
        return value
    if isinstance(value, float):  # never produced by parse_json; refused rather than read inexactly
        raise FieldError(path, f"{what}不能以二进制浮点数传入")
    if isinstance(value, str):
        text = value.strip()
        _non_ascii(text, path)
        if len(text) > _MAX_TEXT or not _NUMBER.fullmatch(text):
            raise FieldError(path, f"{what}格式不正确：{value!r}")
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            raise FieldError(path, f"{what}格式不正确：{value!r}") from None
    raise FieldError(path, f"{what}应为数值或数值字符串")


def scaled(value: object, path: str, *, places: int, negative: bool, what: str, too_many: str) -> int:
    """``value`` × 10^places as an exact integer, or a FieldError (too many decimals, out of bounds, sign)."""
    d = _as_decimal(value, path, what)
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    # Trailing zeros carry no value ("12.300" is 12.30): strip them before counting decimals.
    ds = list(digits)
    while len(ds) > 1 and ds[-1] == 0 and exponent < 0:
        ds.pop()
        exponent += 1
    if all(x == 0 for x in ds):
        return 0
    while ds and ds[0] == 0:
        ds.pop(0)
    if exponent < -places:
        raise FieldError(path, too_many)
    if len(ds) + exponent > len(str(MONEY_LIMIT)):
        raise FieldError(path, f"{what}超出范围（绝对值须小于 {MONEY_LIMIT}）")
    n: int = int("".join(map(str, ds))) * 10 ** (exponent + places)
    if n >= MONEY_LIMIT * 10**places:
        raise FieldError(path, f"{what}超出范围（绝对值须小于 {MONEY_LIMIT}）")
    if sign:
        if not negative:
            raise FieldError(path, f"{what}不能为负数")
        n = -n
    return n


def read_money(value: object, path: str, *, negative: bool = False) -> int:
    """An amount in yuan (number or numeric string, at most two decimals) as integer fen."""
    return scaled(value, path, places=MONEY_PLACES, negative=negative, what="金额", too_many="金额最多两位小数")


def read_decimal(value: object, path: str, *, places: int, negative: bool = False, what: str = "数值") -> Decimal:
    """An exact decimal with at most ``places`` decimals, below the convention's bound."""
    n = scaled(value, path, places=places, negative=negative, what=what, too_many=f"{what}最多{places}位小数")
    return Decimal(n).scaleb(-places)


def read_quantity(value: object, path: str, *, negative: bool = False) -> Decimal:
    """A quantity (``cnt``): at most four decimals."""
    return read_decimal(value, path, places=QUANTITY_PLACES, negative=negative, what="数量")


def to_yuan(fen: int) -> Decimal:
    """An amount in fen as the Decimal an answer carries (rendered as a number with two decimals)."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, got {type(fen).__name__}")
    return Decimal(fen).scaleb(-2)


def _text(value: object, path: str, what: str) -> str:
    if not isinstance(value, str):
        raise FieldError(path, f"{what}应为字符串")
    text = value.strip()
    _non_ascii(text, path)
    return text


def read_date(value: object, path: str) -> date:
    """A date ``yyyy-MM-dd`` that exists (2023-02-30 does not)."""
    text = _text(value, path, "日期")
    m = _DATE.fullmatch(text)
    if not m:
        raise FieldError(path, f"日期格式应为 yyyy-MM-dd：{value!r}")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise FieldError(path, f"日期不存在：{text}") from None


def read_datetime(value: object, path: str, *, date_only: bool = True) -> datetime:
    """A time ``yyyy-MM-dd HH:mm:ss`` in China time (UTC+8), as an aware instant.

    Liberal in what it accepts: ``yyyyMMddHHmmss`` and, with ``date_only``, a bare ``yyyy-MM-dd`` (midnight).
    """
    text = _text(value, path, "时间")
    m = _TIME.fullmatch(text) or _COMPACT_TIME.fullmatch(text)
    if m:
        parts = [int(x) for x in m.groups()]
    elif date_only and _DATE.fullmatch(text):
        d = read_date(text, path)
        return datetime(d.year, d.month, d.day, tzinfo=CHINA_TZ)
    else:
        raise FieldError(path, f"时间格式应为 yyyy-MM-dd HH:mm:ss：{value!r}")
    try:
        year, month, day, hour, minute, second = parts
        return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)
    except ValueError:
        raise FieldError(path, f"时间不存在：{text}") from None


def read_month(value: object, path: str) -> date:
    """A month ``yyyyMM`` (or ``yyyy-MM``) as its first day."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _text(value, path, "年月")
    m = _MONTH.fullmatch(text)
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise FieldError(path, f"年月格式应为 yyyyMM：{value!r}")
    return date(int(m[1]), int(m[2]), 1)
