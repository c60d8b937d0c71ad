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


@pytest.mark.parametrize(
    "trick",
    [
        str.maketrans("0123456789", "０１２３４５６７８９"),  # full-width
        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),  # Arabic-Indic
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),  # extended Arabic-Indic
    ],
)
def test_only_ascii_digits(trick: dict[int, str]) -> None:
    v = make_id_number("530102", date(1990, 1, 1), 3, "M")
    with pytest.raises(ValidationFailed, match="0-9") as err:
        parse_id_number(v.translate(trick), field="guardian_id_number")
    assert err.value.field == "guardian_id_number"
    with pytest.raises(ValidationFailed):
        parse_id_number(v[:6] + v[6:].translate(trick))  # even one foreign digit


@pytest.mark.parametrize("born", [date(1899, 12, 31), date(1800, 1, 1), date(2099, 1, 1)])
def test_birth_date_within_bounds(born: date) -> None:
    with pytest.raises(ValidationFailed, match="birth") as err:
        parse_id_number(make_id_number("530102", born, 3, "M"))
    assert err.value.field == "id_number"


def test_birth_date_today_and_1900_are_fine() -> None:
    from yibao.core.clock import today

    assert parse_id_number(make_id_number("530102", date(1900, 1, 1), 3, "F")).birth_date == date(1900, 1, 1)
    assert parse_id_number(make_id_number("530102", today(), 3, "F")).birth_date == today()
