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

START_MONTH = "resident.benefit_year_start_month"


def benefit_year_start(day: date, pack: Pack) -> date:
    """First day of the benefit year containing ``day``."""
    pv = pack.at(day).get(START_MONTH)
    month: int = pv.value
    year = day.year if day.month >= month else day.year - 1
    start = date(year, month, 1)
    # A new rule starts a new year on its own effective date (2023-01-01 closes the short 2022 year).
    return max(start, pv.start)


def benefit_year_keys(days: npt.NDArray[np.datetime64], pack: Pack) -> npt.NDArray[np.int64]:
    """Vectorized: each day's benefit-year start as days since 1970-01-01 (a sortable group key)."""
    param = pack.parameter(START_MONTH)
    starts = np.array([dv.start for dv in param.history], dtype="datetime64[D]")
    months = np.array([dv.value for dv in param.history], dtype=np.int64)
    d = days.astype("datetime64[D]")
    idx = np.searchsorted(starts, d, side="right") - 1
    if (idx < 0).any():
        raise ValueError("a date lies before every benefit-year rule")
    m = months[idx]
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    year = np.where(month >= m, year, year - 1)
    month_index = (year - 1970) * 12 + (m - 1)
    start = month_index.astype("datetime64[M]").astype("datetime64[D]")
    start = np.maximum(start, starts[idx])
    return start.astype(np.int64)
