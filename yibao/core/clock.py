"""One clock for the whole system: the current instant, and the calendar day in China.

Policies speak in Chinese calendar days (collection periods, "within one month of discharge", the day a
cover starts), while stored instants are UTC. Everything that asks "now" or "today" asks this module, so
that the two never disagree (a request at 23:59 and one at 00:01 China time fall on different days on
every path), and so that tests set the time instead of patching ``datetime``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from yibao.core.dates import local_date


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return datetime.now(UTC)

    def wire_now(self) -> datetime:
        """The instant to compare with other machines' clocks (message timestamps, nonces): :meth:`now`."""
        return self.now()


class FixedClock(Clock):
    """A clock that stands still until moved (tests, demos, replaying a day)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a fixed clock needs an aware instant")
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant the clock was set to."""
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at``."""
        if at.tzinfo is None:
            raise ValueError("a fixed clock needs an aware instant")
        with self._lock:
            self._at = at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        with self._lock:
            self._at += delta


class ShiftedClock(Clock):
    """The real clock, moved so that it read ``start`` when it was made (a demo or training server that lives
    in another period, such as a collection period of the policy pack), and running on from there."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a shifted clock needs an aware instant")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        """The real instant, shifted."""
        return datetime.now(UTC) + self._offset

    def wire_now(self) -> datetime:
        """The real instant: clients sign with their own real clocks, whatever period the server plays."""
        return datetime.now(UTC)


_clock: Clock = Clock()


def now() -> datetime:
    """The current instant, UTC."""
    return _clock.now()


def wire_now() -> datetime:
    """The instant against which other machines' timestamps are checked (a shifted server keeps real time here)."""
    return _clock.wire_now()


def today() -> date:
    """Today's calendar day in China (UTC+8)."""
    return local_date(_clock.now())


def configure(start: str | None) -> None:
    """Install the clock a deployment asks for (``YIBAO_CLOCK``: an ISO instant to start from; unset: real time)."""
    global _clock
    if not start:
        return
    try:
        at = datetime.fromisoformat(start)
    except ValueError:
        raise ValueError(f"YIBAO_CLOCK: not an ISO instant: {start!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"YIBAO_CLOCK: give the offset too, e.g. {start}+08:00")
    _clock = ShiftedClock(at)


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Let ``clock`` tell the time for the whole process while the block runs."""
    global _clock
    before, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = before
