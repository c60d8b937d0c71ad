from __future__ import annotations

from datetime import date

import pytest

from yibao.core.errors import ValidationFailed
from yibao.core.ids import check_character, make_id_number, mask_id, mask_phone, parse_id_number


def test_known_valid_number() -> None:
    # GB 11643 example structure: region 110105, born 1949-12-31, sequence 001 (odd: male).
    first17 = "11010519491231002"
    value = first17 + check_character(first17)
    assert value == "11010519491231002X"
    idn = parse_id_number(value.lower())
    assert (idn.birth_date, idn.sex, idn.region) == (date(1949, 12, 31), "F", "110105")


def test_make_and_parse_round_trip() -> None:
    v = make_id_number("530102", date(2016, 2, 29), 17, "M")
    idn = parse_id_number(v)
    assert idn.sex == "M" and idn.birth_date == date(2016, 2, 29)


@pytest.mark.parametrize(
    "bad", ["53010219900101123", "5301021990010112345", "530102199002301234", "ABCDEFGHIJKLMNOPQR", 530102]
)
def test_refused(bad: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_id_number(bad, field="id_number")
    assert err.value.field == "id_number"


def test_wrong_checksum() -> None:
    v = make_id_number("530102", date(1990, 1, 1), 1, "F")
    wrong = v[:17] + ("0" if v[17] != "0" else "1")
    with pytest.raises(ValidationFailed, match="check"):
        parse_id_number(wrong)


def test_masking() -> None:
    assert mask_id("530102199001011234") == "530102********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) is None
