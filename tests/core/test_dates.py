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


@pytest.mark.parametrize("bad", ["２０２２-０１-０１", "٢٠٢٢-01-01", "2022-0１-01"])
def test_parse_date_refuses_non_ascii_digits(bad: str) -> None:
    with pytest.raises(ValidationFailed, match="0-9") as err:
        parse_date(bad, field="on")
    assert err.value.field == "on"


@pytest.mark.parametrize(("text", "first"), [("2023-05", date(2023, 5, 1)), ("2022-12", date(2022, 12, 1))])
def test_parse_period(text: str, first: date) -> None:
    from yibao.core.dates import parse_period

    assert parse_period(text, field="period") == first


@pytest.mark.parametrize(
    "bad", ["２０２３-０５", "2023-5", "2023-13", "2023-00", "0000-01", "202305", "2023-05-01", ""]
)
def test_parse_period_refuses(bad: str) -> None:
    from yibao.core.dates import parse_period

    with pytest.raises(ValidationFailed) as err:
        parse_period(bad, field="period")
    assert err.value.field == "period"


def test_day_bounds_never_overflow() -> None:
    from datetime import UTC, datetime

    from yibao.core.dates import day_after, day_start

    # Days are China's calendar days: 2022-01-01 runs from 16:00 UTC the day before.
    assert day_start(date(2022, 1, 1)) == datetime(2021, 12, 31, 16, tzinfo=UTC)
    assert day_after(date(2022, 1, 1)) == datetime(2022, 1, 1, 16, tzinfo=UTC)
    assert day_after(date.max) is None  # the end of time: no upper limit
    assert day_start(date.min) == datetime.min.replace(tzinfo=UTC)  # the beginning of time: no lower limit
    assert day_start(date(1, 1, 2)) == datetime(1, 1, 1, 16, tzinfo=UTC)
