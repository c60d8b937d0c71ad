"""The synthetic province's insured persons, shaped by ``shape.yaml`` and deterministic by seed.

Partition ``k`` holds persons ``k * P`` to ``(k + 1) * P - 1`` and draws from its own random stream
(seed, "population", k), so any partition can be made again alone, on any machine, with the same result.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.benefit_year import days_from_civil
from yibao.policy.model import Pack
from yibao.sim.frame import PREFECTURES
from yibao.sim.shape import AGE_BANDS, Shape

I64 = npt.NDArray[np.int64]

# name -> dtype of a population partition's columns.
POPULATION_COLUMNS: dict[str, str] = {
    "person_id": "int64",
    "region": "int32",  # GB/T 2260 code of the prefecture (pooling region)
    "birth_date": "datetime64[D]",
    "sex": "int8",  # 0 = M, 1 = F
    "scheme": "int8",  # index into yibao.sim.frame.SCHEMES
    "group": "int8",  # 0 = general, 1 = student_child (residents)
    "disease": "int16",  # special-disease card: index into resident.special_outpatient.diseases; -1 none
}
STREAM_POPULATION = 1


def disease_codes(pack: Pack, on: date, shape: Shape) -> tuple[str, ...]:
    """The pack's special diseases on ``on``; the shape must weigh exactly these."""
    codes = pack.at(on).codes("resident.special_outpatient.diseases")
    given = set(shape.parameters.special_diseases.value)
    if given != set(codes):
        missing, extra = sorted(set(codes) - given), sorted(given - set(codes))
        raise ValidationFailed(
            "special_diseases",
            f"形状参数的病种与政策参数包不一致（缺少 {missing}，多出 {extra}）",
            f"the shape's diseases differ from the pack's (missing {missing}, extra {extra})",
        )
    return codes


def _ages(rng: np.random.Generator, n: int, shape: Shape) -> I64:
    p = shape.parameters
    counts = np.array([p.age_structure.value[b] for b in AGE_BANDS], dtype=np.float64)
    band = rng.choice(len(AGE_BANDS), size=n, p=counts / counts.sum())
    oldest = p.age_within_band.value.oldest
    decline = p.age_within_band.value.elderly_decline_per_year
    elderly_w = decline ** np.arange(oldest - 60 + 1, dtype=np.float64)
    ages = np.where(
        band == 0,
        rng.integers(0, 15, n),
        np.where(band == 1, rng.integers(15, 60, n), 60 + rng.choice(len(elderly_w), n, p=elderly_w / elderly_w.sum())),
    )
    out: I64 = ages.astype(np.int64)
    return out


def _births(rng: np.random.Generator, ages: I64, as_of: date) -> npt.NDArray[np.datetime64]:
    """A birth date for each age, uniform over the year of birthdays that gives that age on ``as_of``."""
    y = np.int64(as_of.year) - ages
    m = np.full_like(ages, as_of.month)
    d = np.full_like(ages, as_of.day)
    latest = days_from_civil(y, m, d)  # the birthday falls on as_of: the age is just reached
    earliest = days_from_civil(y - 1, m, d) + 1  # one more day and the next age would be reached
    births = earliest + (rng.random(len(ages)) * (latest - earliest + 1)).astype(np.int64)
    out: npt.NDArray[np.datetime64] = births.astype("datetime64[D]")
    return out


def population_partition(
    shape: Shape, diseases: tuple[str, ...], *, seed: int, index: int, lo: int, hi: int, as_of: date
) -> dict[str, npt.NDArray[Any]]:
    """Persons ``lo`` to ``hi - 1`` of the province (partition ``index``), as of ``as_of``."""
    rng = np.random.default_rng([seed, STREAM_POPULATION, index])
    p = shape.parameters
    n = hi - lo
    pops = np.array([p.prefecture_population.value[c] for c in PREFECTURES], dtype=np.float64)
    region = np.array([int(c) for c in PREFECTURES], dtype=np.int32)[rng.choice(len(pops), n, p=pops / pops.sum())]
    male = p.sex.value["male"] / (p.sex.value["male"] + p.sex.value["female"])
    sex = (rng.random(n) >= male).astype(np.int8)
    ages = _ages(rng, n, shape)
    birth = _births(rng, ages, as_of)
    emp = p.employee_share.value
    working = (ages >= emp.working_from_age) & (ages < emp.retirement_age)
    employee_p = np.where(working, emp.working, np.where(ages >= emp.retirement_age, emp.retired, 0.0))
    scheme = (rng.random(n) < employee_p).astype(np.int8)
    resident = scheme == 0
    st = p.university_students.value
    student = (ages >= st.from_age) & (ages <= st.to_age) & (rng.random(n) < st.share)
    group = (resident & ((ages < st.from_age) | student)).astype(np.int8)
    band = np.searchsorted(np.array([15, 60]), ages, side="right")
    prevalence = np.array([p.special_card_prevalence.value[b] for b in AGE_BANDS])[band]
    holder = resident & (rng.random(n) < prevalence)
    weights = np.array([p.special_diseases.value[c].weight for c in diseases], dtype=np.float64)
    disease = np.where(holder, rng.choice(len(diseases), n, p=weights / weights.sum()), -1).astype(np.int16)
    return {
        "person_id": np.arange(lo, hi, dtype=np.int64),
        "region": region,
        "birth_date": birth,
        "sex": sex,
        "scheme": scheme,
        "group": group,
        "disease": disease,
    }
