"""Synthetic resident claims for demos, tests and benchmarks (deterministic for a seed).

The mix is meant to look like a county's year: most claims are general outpatient visits, a fifth
special-disease visits, a fifth inpatient stays with a long tail of large bills, so that fund
ceilings and every catastrophic band are reached by some persons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.engine.batch import KIND_GENERAL, KIND_INPATIENT, KIND_SPECIAL


def generate_claims(n: int, *, seed: int = 2016, diseases: int = 27) -> dict[str, npt.NDArray[Any]]:
    """``n`` claims of about n/6 persons, sorted by person and date, money in fen."""
    rng = np.random.default_rng(seed)
    per_person = 6
    n_persons = max(1, n // per_person)
    person = np.sort(rng.integers(0, n_persons, n)).astype(np.int64)
    day0 = np.datetime64("2015-10-01")
    offset = rng.integers(0, 730, n)
    # Sort dates within each person: order by (person, offset).
    order = np.lexsort((offset, person))
    offset = offset[order]
    date = day0 + offset.astype("timedelta64[D]")
    birth_by_person = np.datetime64("1935-01-01") + rng.integers(0, 80 * 365, n_persons).astype("timedelta64[D]")
    sex_by_person = rng.integers(0, 2, n_persons).astype(np.int8)
    kind = rng.choice(np.array([KIND_INPATIENT, KIND_GENERAL, KIND_SPECIAL], dtype=np.int8), n, p=[0.2, 0.6, 0.2])
    inpatient = kind == KIND_INPATIENT
    # In-scope cost: outpatient visits in the tens to hundreds of yuan, stays lognormal with a long tail.
    in_scope = np.where(
        inpatient,
        np.minimum(rng.lognormal(mean=np.log(800_000), sigma=1.2, size=n), 150_000_000),
        rng.lognormal(mean=np.log(15_000), sigma=0.8, size=n),
    ).astype(np.int64)
    out_scope = (in_scope * rng.uniform(0.0, 0.3, n)).astype(np.int64)
    class_b = np.where(inpatient, (in_scope * rng.uniform(0.0, 0.3, n)).astype(np.int64), 0)
    ones = np.ones(n, dtype=bool)
    return {
        "person_id": person,
        "date": date,
        "kind": kind,
        "birth_date": birth_by_person[person],
        "sex": sex_by_person[person],
        "group": (rng.random(n) < 0.1).astype(np.int8),
        "hospital_level": rng.integers(1, 4, n).astype(np.int8),
        "offsite": np.where(rng.random(n) < 0.05, rng.integers(1, 3, n), 0).astype(np.int8),
        "designated": rng.random(n) < 0.99,
        "registered": ones.copy(),
        "filed": rng.random(n) < 0.97,
        "on_time": rng.random(n) < 0.97,
        "community_health_center": rng.random(n) < 0.9,
        "card": rng.random(n) < 0.95,
        "disease": rng.integers(0, diseases, n).astype(np.int16),
        "total": in_scope + out_scope,
        "in_scope": in_scope,
        "class_b": class_b,
    }
