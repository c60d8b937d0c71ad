"""Proof that no number drifts from its source.

Every cited value's quote must stand verbatim in the cited seed file (a quote may join several
passages of one file with ``……``), and the value itself must appear in its quote, in any of the
spellings Chinese policy texts use: 160000 / 16万 / 1.1万 / 1千, 70%, 一个月, 2022年9月1日.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from yibao.policy.loader import SOURCES_DIR, Defect
from yibao.policy.model import Bracket, Citation, ListItem, Pack, Unit

QUOTE_SEPARATOR = "……"
_CN_DIGITS = "零一二三四五六七八九十"


def _chinese_numeral(n: int) -> str | None:
    if 0 <= n <= 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + _CN_DIGITS[n - 10]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _CN_DIGITS[tens] + "十" + (_CN_DIGITS[ones] if ones else "")
    return None


def _decimal_text(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def spellings(value: Any, unit: Unit) -> list[str]:
    """Ways a value may be written in a Chinese policy text."""
    if isinstance(value, Fraction):
        pct = Decimal(value.numerator) / Decimal(value.denominator) * 100
        return [_decimal_text(pct) + "%"]
    if isinstance(value, date):
        return [f"{value.year}年{value.month}月{value.day}日"]
    if isinstance(value, ListItem):
        return [value.name]
    if not isinstance(value, int):
        return [str(value)]
    n = Decimal(value) / 100 if unit is Unit.CNY else Decimal(value)
    out = [_decimal_text(n)]
    if unit is Unit.CNY:
        out.append(f"{int(n):,}")
        if n >= 1000 and n % 1000 == 0 and n < 10000:
            out.append(f"{_decimal_text(n / 1000)}千")
        if n >= 10000:
            out.append(f"{_decimal_text(n / 10000)}万")
    if n == n.to_integral_value():
        cn = _chinese_numeral(int(n))
        if cn:
            out.append(cn)
    return out


def _cells(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _cells(v)
    elif isinstance(value, tuple):
        yield from value
    elif value is not None:
        yield value


def _values_to_check(value: Any) -> Iterator[tuple[Any, Citation | None]]:
    """Each number or name in a value, with a bracket's own citation where it has one."""
    for cell in _cells(value):
        if isinstance(cell, Bracket):
            if cell.citation is not None and cell.citation.assumed:
                continue
            if cell.threshold:
                yield cell.threshold, None
            yield cell.rate, None
        else:
            yield cell, None


def verify_quotes(pack: Pack, sources_dir: Path = SOURCES_DIR) -> list[Defect]:
    """Every defect of quotes and values in a loaded pack (empty when all is well)."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sources_dir.glob("*.txt")}
    defects: list[Defect] = []
    for param in pack.parameters.values():
        for dv in param.history:
            c = dv.citation
            if c.assumed or not c.source or not c.quote:  # overlay values verify too, when they quote a source
                continue
            where = (c.file or param.file, c.line)
            if c.source.endswith(".txt"):
                text = texts.get(c.source)
                if text is None:
                    defects.append(Defect(*where, f"{param.path}: source {c.source} not found"))
                    continue
                for part in c.quote.split(QUOTE_SEPARATOR):
                    if part not in text:
                        defects.append(
                            Defect(*where, f"{param.path}: quote not found verbatim in {c.source}: {part[:40]}…")
                        )
            for v, _ in _values_to_check(dv.value):
                unit = Unit.RATIO if isinstance(v, Fraction) else param.unit
                options = spellings(v, unit)
                if not any(o in c.quote for o in options):
                    defects.append(Defect(*where, f"{param.path}: value {options[0]} does not appear in its quote"))
    return defects
