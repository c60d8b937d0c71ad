from __future__ import annotations

from datetime import date

import pytest

from yibao.core.dates import add_months, add_years, age_on, parse_date
from yibao.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("d", "n", "out"),
    [
        (date(2016, 1, 31), 1, date(2016, 2, 29)),
        (date(2015, 1, 31), 1, date(2015, 2, 28)),
        (date(2016, 3, 15), 1, date(2016, 4, 15)),
        (date(2016, 11, 30), 3, date(2017, 2, 28)),
        (date(2016, 12, 31), 1, date(2017, 1, 31)),
    ],
)
def test_add_months_clamps_to_month_end(d: date, n: int, out: date) -> None:
    assert add_months(d, n) == out


def test_add_years_leap_day() -> None:
    assert add_years(date(2016, 2, 29), 5) == date(2021, 2, 28)


def test_age_on_birthday_counts_as_reached() -> None:
    assert age_on(date(1956, 3, 1), date(2016, 2, 29)) == 59
    assert age_on(date(1956, 3, 1), date(2016, 3, 1)) == 60
    assert age_on(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert age_on(date(2000, 2, 29), date(2018, 3, 1)) == 18


def test_parse_date_names_field() -> None:
    assert parse_date("2016-02-29", field="d") == date(2016, 2, 29)
    for bad in ("2015-02-29", "29/02/2016", 20160229):
        with pytest.raises(ValidationFailed) as err:
            parse_date(bad, field="discharge_date")
        assert err.value.field == "discharge_date"
