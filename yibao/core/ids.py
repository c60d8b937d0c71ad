"""Resident identity numbers (GB 11643-1999) and masking of personal data.

An 18-character number: 6-digit region code, 8-digit birth date, 3-digit sequence (odd for men,
even for women) and a check character computed with ISO 7064 MOD 11-2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from yibao.core.clock import today
from yibao.core.errors import ValidationFailed
from yibao.core.text import ascii_digits

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
# Operational bound (assumed): nobody insured today was born before 1900; an earlier year is a typing error.
EARLIEST_BIRTH = date(1900, 1, 1)


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A validated resident identity number and what it says about its holder."""

    value: str
    region: str
    birth_date: date
    sex: str  # "M" or "F"

    @property
    def masked(self) -> str:
        """Masked for display: ``530102********1234``."""
        return mask_id(self.value)


def parse_id_number(text: object, *, field: str = "id_number") -> IdNumber:
    """Validate an ID number (format, birth date, checksum); errors name the field."""
    if not isinstance(text, str):
        raise ValidationFailed(field, "身份证号必须是字符串", "the ID number must be a string")
    value = ascii_digits(text.strip(), field=field).upper()
    if not _ID_RE.match(value):
        raise ValidationFailed(
            field, "身份证号应为18位（末位可为X）", "an ID number has 18 characters (the last may be X)"
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationFailed(
            field, "身份证号中的出生日期不存在", "the birth date inside the ID number does not exist"
        ) from None
    if check_character(value[:17]) != value[17]:
        raise ValidationFailed(field, "身份证号校验位不正确", "the ID number's check character is wrong")
    if not EARLIEST_BIRTH <= born <= today():
        raise ValidationFailed(
            field,
            f"身份证号中的出生日期 {born} 不在 {EARLIEST_BIRTH} 至今天之间",
            f"the birth date {born} inside the ID number is not between {EARLIEST_BIRTH} and today",
        )
    return IdNumber(value=value, region=value[:6], birth_date=born, sex="M" if int(value[16]) % 2 else "F")


def make_id_number(region: str, born: date, sequence: int, sex: str) -> str:
    """Build a valid ID number (for demo data and tests): sequence 0-499, parity set by sex."""
    seq = sequence * 2 + (1 if sex == "M" else 0)
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


def mask_id(value: str) -> str:
    """Keep the region (6) and the last 4 characters: ``530102********1234``."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """Keep the first 3 and last 4 digits: ``138****5678``."""
    if not value:
        return value
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# A run of digits that may hold an ID number, whatever stands around it: letters are no boundary, since
# a percent-encoded separator (``%2B``, ``%252F``, a BOM ``%EF%BB%BF``) ends in one, and ``%20`` or
# ``%25`` even in digits.
_DIGIT_RUN = re.compile(r"[0-9]{17,}[0-9Xx]?")
# A mobile number (11 digits starting with 1), not part of a longer run of digits.
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _plausible(window: str) -> bool:
    """18 characters with a right check character and a real birth date: an ID number, whoever wrote it."""
    if not window[:17].isdigit() or check_character(window[:17]) != window[17].upper():
        return False
    try:
        date(int(window[6:10]), int(window[10:12]), int(window[12:14]))
    except ValueError:
        return False
    return True


def _ids_in_run(run: str) -> list[int]:
    """Where ID numbers start in a run of digits: the run itself if it has exactly 18 characters, else
    every 18-character window that is a plausible ID number (a number glued to other digits)."""
    if len(run) == 18:
        return [0]
    return [i for i in range(len(run) - 17) if _plausible(run[i : i + 18])]


def mask_ids_in(text: str) -> str:
    """Mask every ID number and mobile number in a text (log lines, audit details)."""

    def mask_run(m: re.Match[str]) -> str:
        run = list(m.group(0))
        for i in _ids_in_run(m.group(0)):
            run[i + 6 : i + 14] = "*" * 8
        return "".join(run)

    text = _DIGIT_RUN.sub(mask_run, text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) or "", text)


def find_full_ids(text: str) -> list[str]:
    """Plausible ID numbers (check character and birth date) standing unmasked in a text."""
    found = []
    for m in _DIGIT_RUN.finditer(text):
        run = m.group(0)
        found += [run[i : i + 18] for i in _ids_in_run(run) if _plausible(run[i : i + 18])]
    return found
