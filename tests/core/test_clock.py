"""One clock: the China calendar day turns at 00:00 China time (16:00 UTC), on every path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.factories import new_id, premium_body
from yibao.core import clock

# 2022-12-31 23:59:59 in China is 15:59:59 UTC: the last second of the 2023 year's collection period.
LAST_SECOND = datetime(2022, 12, 31, 15, 59, 59, tzinfo=UTC)


def test_the_day_turns_at_midnight_china_time() -> None:
    with clock.use(clock.FixedClock(LAST_SECOND)) as c:
        assert clock.today() == date(2022, 12, 31)
        assert clock.now() == LAST_SECOND
        assert isinstance(c, clock.FixedClock)
        c.advance(timedelta(seconds=1))
        assert clock.today() == date(2023, 1, 1)
        assert clock.now().date() == date(2022, 12, 31)  # still the 31st in UTC
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)  # the real clock is back


def test_a_fixed_clock_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError):
        clock.FixedClock(datetime(2022, 12, 31, 23, 59))


def _premium(client: Any, idn: str, key: str) -> Any:
    return client.post("/api/premiums/payments", json=premium_body(idn), headers={"Idempotency-Key": key})


def test_collection_period_ends_at_midnight_china_time_over_http(client: Any) -> None:
    with clock.use(clock.FixedClock(LAST_SECOND)) as c:
        late, last = new_id(), new_id()
        for idn in (late, last):
            r = client.post("/api/people/residents", json={"id_number": idn, "name": "张三", "region": "530100"})
            assert r.status_code == 201, r.text
            assert r.json()["records"][0]["benefits_from"] == "2022-12-31"  # today in China, not in UTC
        assert _premium(client, last, f"k-{last}").status_code == 201
        assert isinstance(c, clock.FixedClock)
        c.advance(timedelta(seconds=1))  # 2023-01-01 00:00:00 in China
        refused = _premium(client, late, f"k-{late}")
        assert refused.status_code == 422 and refused.json()["code"] == "premium.outside_period"


def test_a_demo_server_clock_starts_where_it_is_told_and_runs_on() -> None:
    from datetime import UTC

    before = clock._clock
    try:
        clock.configure("2022-11-15T10:00:00+08:00")
        first = clock.now()
        assert first.astimezone(UTC).date().isoformat() == "2022-11-15"
        assert clock.today().isoformat() == "2022-11-15"
        assert clock.now() >= first  # it runs on
        clock.configure(None)  # unset: nothing changes
        assert clock.today().isoformat() == "2022-11-15"
    finally:
        clock._clock = before


def test_a_clock_setting_without_an_offset_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="offset"):
        clock.configure("2022-11-15T10:00:00")
    with pytest.raises(ValueError, match="ISO"):
        clock.configure("next tuesday")


def test_a_shifted_server_checks_other_machines_timestamps_against_real_time() -> None:
    from yibao.core.clock import ShiftedClock

    demo = ShiftedClock(datetime(2022, 11, 15, 2, 0, tzinfo=UTC))
    with clock.use(demo):
        assert clock.now().year == 2022  # the business day the demo plays
        assert abs((clock.wire_now() - datetime.now(UTC)).total_seconds()) < 5  # signatures: real time
    fixed = clock.FixedClock(datetime(2023, 3, 1, 2, 0, tzinfo=UTC))
    with clock.use(fixed):
        assert clock.wire_now() == clock.now()  # tests move both together
