"""Benefit years: the period over which yearly accumulators (fund ceiling, caps, catastrophic) add up.

Seed 003: "自本年10月1日至次年9月30日" — October to September. From the 2023 contribution year the
collection period implies calendar years (policy.md, inferred and marked assumed in the pack), so
2022-10-01..2022-12-31 stands as a short year of its own.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from yibao.policy.model import Pack

I64 = npt.NDArray[np.int64]

START_MONTH = "resident.benefit_year_start_month"


def benefit_year_start(day: date, pack: Pack) -> date:
    """First day of the benefit year containing ``day``."""
    pv = pack.at(day).get(START_MONTH)
    month = pv.whole()
    year = day.year if day.month >= month else day.year - 1
    start = date(year, month, 1)
    # A new rule starts a new year on its own effective date (2023-01-01 closes the short 2022 year).
    return max(start, pv.start)


def civil_from_days(days: I64) -> tuple[I64, I64, I64]:
    """Year, month, day of each day number since 1970-01-01 (proleptic Gregorian).

    NumPy's datetime64 unit conversions are slow on millions of values. Claims span a few decades
    of days at most, so the days-to-civil arithmetic runs once per distinct day of the span and the
    result is gathered (a table of a few ten thousand entries stays in cache).
    """
    if len(days) > 4096:
        lo, hi = int(days.min()), int(days.max())
        if hi - lo < len(days):
            y, m, d = _civil(np.arange(lo, hi + 1, dtype=np.int64))
            i = days - lo
            return y[i], m[i], d[i]
    return _civil(days)


def _civil(days: I64) -> tuple[I64, I64, I64]:
    """The classic days-to-civil algorithm in whole-number operations only."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 - 12 * (mp >= 10)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: I64, month: I64, day: I64) -> I64:
    """Day number since 1970-01-01 of each (year, month, day); the inverse of civil_from_days."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = month + 9 - 12 * (month > 2)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    out: I64 = era * 146097 + doe - 719468
    return out


def benefit_year_keys(days: npt.NDArray[np.datetime64], pack: Pack) -> I64:
    """Vectorized: each day's benefit-year start as days since 1970-01-01 (a sortable group key)."""
    param = pack.parameter(START_MONTH)
    starts = np.array([dv.start for dv in param.history], dtype="datetime64[D]").astype(np.int64)
    months = np.array([pack.whole(START_MONTH, dv.start) for dv in param.history], dtype=np.int64)
    d = days.astype("datetime64[D]").astype(np.int64)
    if len(d) > 4096:
        lo, hi = int(d.min()), int(d.max())
        if hi - lo < len(d):
            # One key per distinct day of the span, gathered: the arithmetic below runs on few values.
            table = _keys(np.arange(lo, hi + 1, dtype=np.int64), starts, months)
            out: I64 = table[d - lo]
            return out
    return _keys(d, starts, months)


def _keys(d: I64, starts: I64, months: I64) -> I64:
    idx = np.searchsorted(starts, d, side="right") - 1
    if (idx < 0).any():
        raise ValueError("a date lies before every benefit-year rule")
    m = months[idx]
    year, month, _ = civil_from_days(d)
    year -= month < m
    start = days_from_civil(year, m, np.ones_like(m))
    keys: I64 = np.maximum(start, starts[idx])
    return keys
