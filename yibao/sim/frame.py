"""What a simulated year is cut by: the benefit year, its months, prefectures, age bands, groups.

Labels are Chinese first with English second, as the reports show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.engine.batch import KINDS, ages_on
from yibao.engine.benefit_year import benefit_year_keys, benefit_year_start, civil_from_days
from yibao.people.regions import REGIONS
from yibao.policy.model import Pack

I64 = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)
# The 16 prefecture-level pooling regions (530000, the provincial level, insures no one of its own here).
PREFECTURES: tuple[str, ...] = tuple(c for c in REGIONS if not c.endswith("0000"))
PREFECTURES_EN: dict[str, str] = {
    "530100": "Kunming",
    "530300": "Qujing",
    "530400": "Yuxi",
    "530500": "Baoshan",
    "530600": "Zhaotong",
    "530700": "Lijiang",
    "530800": "Pu'er",
    "530900": "Lincang",
    "532300": "Chuxiong",
    "532500": "Honghe",
    "532600": "Wenshan",
    "532800": "Xishuangbanna",
    "532900": "Dali",
    "533100": "Dehong",
    "533300": "Nujiang",
    "533400": "Diqing",
}
# Lower bounds of the report's age bands (age at the start of the benefit year): the policy's own
# thresholds stand out (18 or under pays the child deductible; 60 and 55 raise the outpatient cap).
AGE_EDGES: tuple[int, ...] = (0, 7, 19, 45, 60, 70, 80)
AGE_LABELS: tuple[str, ...] = ("0-6岁", "7-18岁", "19-44岁", "45-59岁", "60-69岁", "70-79岁", "80岁及以上")
AGE_LABELS_EN: tuple[str, ...] = ("0-6", "7-18", "19-44", "45-59", "60-69", "70-79", "80+")
GROUP_LABELS: tuple[str, ...] = ("普通居民 general", "学生儿童 student/child")
KIND_LABELS: dict[str, str] = {
    "inpatient": "住院 inpatient",
    "general_outpatient": "普通门诊 general outpatient",
    "special_outpatient": "门诊特殊病 special-disease outpatient",
}
SCHEMES: tuple[str, ...] = ("resident", "employee")
assert tuple(KIND_LABELS) == KINDS


@dataclass(frozen=True, slots=True)
class Frame:
    """One benefit year and the cuts of its report."""

    start: date
    end: date  # inclusive

    @property
    def months(self) -> list[str]:
        """Every month of the year, as YYYY-MM."""
        out: list[str] = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def month_index(self, days: I64) -> I64:
        """Index into ``months`` of each day number (a table of the year's days, gathered)."""
        first = (self.start - _EPOCH).days
        span = np.arange(first, (self.end - _EPOCH).days + 1, dtype=np.int64)
        y, m, _ = civil_from_days(span)
        table = (y * 12 + m) - (self.start.year * 12 + self.start.month)
        out: I64 = table[days - first]
        return out

    def age_band(self, birth_days: I64) -> I64:
        """Age band of each birth date (day numbers), by age at the start of the year."""
        if len(birth_days) == 0:
            return np.zeros(0, dtype=np.int64)
        # One band per distinct birth day of the span, gathered: the persons share a few ten thousand days.
        lo, hi = int(birth_days.min()), int(birth_days.max())
        days = np.arange(lo, hi + 1, dtype=np.int64)
        age = ages_on(days, np.full_like(days, (self.start - _EPOCH).days))
        table = np.searchsorted(np.array(AGE_EDGES[1:]), age, side="right").astype(np.int64)
        out: I64 = table[birth_days - lo]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (kept in the claims manifest)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Frame:
        """Inverse of ``to_dict``."""
        return cls(date.fromisoformat(d["start"]), date.fromisoformat(d["end"]))


def benefit_year(year: int, pack: Pack) -> Frame:
    """The benefit year in force in the middle of ``year`` (1 July): Oct-Sep until 2022, calendar from 2023."""
    start = benefit_year_start(date(year, 7, 1), pack)
    days = np.array([start + timedelta(days=i) for i in range(400)], dtype="datetime64[D]")
    keys = benefit_year_keys(days, pack)
    length = int(np.count_nonzero(keys == keys[0]))
    return Frame(start, start + timedelta(days=length - 1))
