"""Money as integer fen.

Every amount inside yibao is an ``int`` number of fen (1 yuan = 100 fen). Strings such as
``"1234.56"`` exist only at the edges (JSON, CLI, YAML). Floats are refused everywhere: a binary
float cannot hold 0.1 yuan exactly, and a fund must never lose or create a fen through rounding.
"""

from __future__ import annotations

import re
from fractions import Fraction

from yibao.core.errors import ValidationFailed
from yibao.core.text import ascii_digits

Fen = int

_YUAN_RE = re.compile(r"^(-?)([0-9]{1,15})(?:\.([0-9]{1,2}))?$")


def parse_yuan(text: object, *, field: str = "amount", allow_negative: bool = False) -> Fen:
    """Parse a yuan amount given as a string ("1234.56", "12", "0.5") into fen; floats are refused."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValidationFailed(
            field,
            f'金额必须是字符串形式的元（如 "1234.56"），不接受 {type(text).__name__}',
            f'amount must be a yuan string such as "1234.56", not {type(text).__name__}',
        )
    if isinstance(text, int):
        text = str(text)
    m = _YUAN_RE.match(ascii_digits(text.strip(), field=field))
    if not m:
        raise ValidationFailed(
            field,
            f'金额格式不正确：{text!r}（应为最多两位小数的元，如 "1234.56"）',
            f'malformed amount {text!r}: expected yuan with at most two decimals, e.g. "1234.56"',
        )
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if sign:
        fen = -fen
    if fen < 0 and not allow_negative:
        raise ValidationFailed(field, f"金额不能为负数：{text}", f"amount must not be negative: {text}")
    return fen


def format_yuan(fen: Fen) -> str:
    """Render fen as a yuan string with exactly two decimals ("1234.56")."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(fen), 100)
    return f"{sign}{q}.{r:02d}"


def mul_ratio(fen: Fen, ratio: Fraction) -> Fen:
    """Multiply an amount in fen by an exact ratio, rounding half up to the fen."""
    num = fen * ratio.numerator
    den = ratio.denominator
    return div_half_up(num, den)


def div_half_up(num: int, den: int) -> int:
    """Integer division rounding halves away from zero; exact for any integers."""
    if den <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q
