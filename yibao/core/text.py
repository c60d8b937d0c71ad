"""Checks every interface applies to text: ASCII digits where numbers are read, names without tricks.

Python reads any Unicode decimal digit as a number (``int("５３")`` is 53, ``Decimal("١")`` is 1, ``\\d``
matches both), so an ID number or an amount written with full-width or Arabic-Indic digits would pass
for a different string holding the same number. Normalising (NFKC) would hide the problem; yibao
refuses such input instead, naming the field, so that one number has one spelling.
"""

from __future__ import annotations

import unicodedata

from yibao.core.errors import ValidationFailed

# Unicode categories a name never contains: controls (newlines, tabs), format characters (bidi
# overrides such as U+202E, zero-width spaces and joiners, the BOM), unassigned and private-use code
# points, surrogates, and line or paragraph separators.
_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"})

# Operational limit (assumed): the longest name the person register stores (persons.name is 64 wide).
NAME_MAX = 64


def ascii_digits(value: str, *, field: str) -> str:
    """Refuse any character outside ASCII in a number, date or code: ``"５３０１"`` is not ``"5301"``."""
    if value.isascii():
        return value
    ch = next(c for c in value if not c.isascii())
    if unicodedata.decimal(ch, None) is not None or ch.isnumeric():
        raise ValidationFailed(
            field,
            f"只能使用半角数字0-9，不接受全角或其他文字的数字 {ch!r}（U+{ord(ch):04X}）",
            f"only ASCII digits 0-9 are accepted, not {ch!r} (U+{ord(ch):04X})",
        )
    raise ValidationFailed(
        field,
        f"只能使用半角字符（数字0-9），不接受 {ch!r}（U+{ord(ch):04X}）",
        f"only ASCII characters (digits 0-9) are accepted, not {ch!r} (U+{ord(ch):04X})",
    )


def clean_name(value: str, *, field: str = "name", max_length: int = NAME_MAX) -> str:
    """A name as stored: trimmed, 1 to ``max_length`` characters, no control, bidi or zero-width characters."""
    name = value.strip()
    if not name or len(name) > max_length:
        raise ValidationFailed(field, f"不能为空，最多{max_length}个字", f"must be 1 to {max_length} characters")
    for ch in name:
        category = unicodedata.category(ch)
        if category in _NOT_IN_NAMES or (category == "Zs" and ch != " "):
            raise ValidationFailed(
                field,
                f"含有不可见或控制字符 U+{ord(ch):04X}（如换行、零宽字符、文字方向控制符）",
                f"contains an invisible or control character U+{ord(ch):04X} (newline, zero-width, bidi override)",
            )
    return name
