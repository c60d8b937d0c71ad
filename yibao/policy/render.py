"""Turning parameter values into JSON-friendly and human-friendly forms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from yibao.core.money import format_yuan


def ratio_text(r: Fraction) -> str:
    """An exact ratio as a decimal string ("0.7"); a fraction string if it does not terminate."""
    den = r.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den != 1:
        return f"{r.numerator}/{r.denominator}"
    d = Decimal(r.numerator) / Decimal(r.denominator)
    text = format(d.normalize(), "f")
    return text


def percent_text(r: Fraction) -> str:
    """A ratio as a percentage ("70%")."""
    return ratio_text(r * 100) + "%"


def render_value(value: Any, unit: str) -> Any:
    """JSON form of a value: money as yuan strings, ratios as decimal strings, dates as ISO."""
    from yibao.policy.model import Bracket, ListItem

    if value is None:
        return None
    if isinstance(value, Mapping):
        return {k: render_value(v, unit) for k, v in value.items()}
    if isinstance(value, tuple) and value and isinstance(value[0], Bracket):
        return [
            {"threshold": render_value(b.threshold, unit), "rate": ratio_text(b.rate)}
            for b in value
            if isinstance(b, Bracket)
        ]
    if isinstance(value, tuple) and (not value or isinstance(value[0], ListItem)):
        return [{"code": i.code, "name": i.name} for i in value if isinstance(i, ListItem)]
    if isinstance(value, Fraction):
        return ratio_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and unit == "CNY":
        return format_yuan(value)
    return value
