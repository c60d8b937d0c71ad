"""A year of resident claims for one population partition, shaped by ``shape.yaml``, deterministic by seed.

Every resident draws a number of stays, general outpatient visits and (card holders) special-disease
visits from Poisson distributions with the shape's rates for their age band; each claim gets a day of
the benefit year (months weighted), a place, a cost and its paperwork flags. Employees draw no claims:
the engine settles the resident scheme only (the pack gives no employee benefit rules).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.engine.batch import COLUMNS, KIND_GENERAL, KIND_INPATIENT, KIND_SPECIAL, ages_on
from yibao.engine.benefit_year import civil_from_days
from yibao.sim.frame import Frame
from yibao.sim.shape import AGE_BANDS, BENEFITS, PLACES, Shape

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Claims partitions carry the batch columns and the person's prefecture.
CLAIM_COLUMNS: dict[str, str] = {**COLUMNS, "region": "int32"}
STREAM_CLAIMS = 2
_EPOCH = date(1970, 1, 1)


def _day_weights(frame: Frame, months: list[float]) -> F64:
    """Probability of each day of the year: its month's weight shared by the month's days."""
    first = (frame.start - _EPOCH).days
    days = np.arange(first, (frame.end - _EPOCH).days + 1, dtype=np.int64)
    _, m, _ = civil_from_days(days)
    month_w = np.array(months, dtype=np.float64)[m - 1]
    per_month = np.bincount(m - 1, minlength=12).astype(np.float64)
    w: F64 = month_w / per_month[m - 1]
    out: F64 = w / w.sum()
    return out


def _lognormal_fen(rng: np.random.Generator, median_yuan: F64 | float, sigma: float, cap_yuan: float, n: int) -> I64:
    """Costs in fen: a lognormal draw around the median, at least one fen, at most the cap."""
    draw = np.asarray(median_yuan) * np.exp(sigma * rng.standard_normal(n))
    out: I64 = np.clip(np.rint(draw * 100), 1, cap_yuan * 100).astype(np.int64)
    return out


def claims_partition(
    people: dict[str, npt.NDArray[Any]],
    shape: Shape,
    frame: Frame,
    diseases: tuple[str, ...],
    *,
    seed: int,
    index: int,
) -> dict[str, npt.NDArray[Any]]:
    """Claims of one population partition for the benefit year ``frame``, sorted by person and date."""
    rng = np.random.default_rng([seed, STREAM_CLAIMS, index, frame.start.toordinal()])
    p = shape.parameters
    start = np.int64((frame.start - _EPOCH).days)
    resident = people["scheme"] == 0
    birth = people["birth_date"].astype(np.int64)
    age = ages_on(birth, np.full_like(birth, start))
    band = np.searchsorted(np.array([15, 60]), age, side="right")

    def rate(values: dict[str, float]) -> F64:
        out: F64 = np.where(resident, np.array([values[b] for b in AGE_BANDS])[band], 0.0)
        return out

    holder = resident & (people["disease"] >= 0)
    counts = (
        rng.poisson(rate(p.inpatient_rate.value)),
        rng.poisson(rate(p.general_visits.value)),
        np.where(holder, rng.poisson(p.special_visits.value, len(age)), 0),
    )
    who = np.concatenate([np.repeat(np.arange(len(age)), c) for c in counts])
    kind = np.concatenate(
        [
            np.full(int(c.sum()), k, dtype=np.int8)
            for c, k in zip(counts, (KIND_INPATIENT, KIND_GENERAL, KIND_SPECIAL), strict=True)
        ]
    )
    n = len(who)
    weights = _day_weights(frame, p.month_weights.value)
    day = start + rng.choice(len(weights), n, p=weights)

    # Sort by (person, day), ties in drawing order, with one sort of a packed integer key.
    rows_bits = max(1, int(n).bit_length())
    day_bits = 10  # a benefit year has at most 366 days
    assert len(age).bit_length() + day_bits + rows_bits < 63
    key = ((who.astype(np.int64) << day_bits | (day - start)) << rows_bits) | np.arange(n, dtype=np.int64)
    order = np.sort(key) & ((1 << rows_bits) - 1)
    del key
    who, kind, day = who[order], kind[order], day[order]

    is_inp, is_gen = kind == KIND_INPATIENT, kind == KIND_GENERAL
    places = p.inpatient_place.value
    place = rng.choice(len(PLACES), n, p=np.array([places[x] for x in PLACES]))
    offsite_kind = np.where(rng.random(n) < p.offsite_referral_share.value, 1, 2)
    offsite = np.where(is_inp & (place == 3), offsite_kind, 0).astype(np.int8)
    # The engine reads no hospital level for an off-site stay (one deductible and ratio for all): 3 stands there.
    level = np.where(place == 3, 3, place + 1).astype(np.int8)

    disease = people["disease"][who]
    ic, gc = p.inpatient_cost.value, p.general_cost.value
    inp_cost = _lognormal_fen(rng, np.array([ic.median[x] for x in PLACES])[place], ic.sigma, ic.cap, n)
    gen_cost = _lognormal_fen(rng, gc.median, gc.sigma, gc.cap, n)
    sp_median = np.array([p.special_diseases.value[c].median for c in diseases])[np.maximum(disease, 0)]
    sp_cost = _lognormal_fen(rng, sp_median, p.special_cost.value.sigma, p.special_cost.value.cap, n)
    in_scope = np.where(is_inp, inp_cost, np.where(is_gen, gen_cost, sp_cost))

    oos = p.out_of_scope_share.value
    lo = np.select([is_inp, is_gen], [oos[BENEFITS[0]].low, oos[BENEFITS[1]].low], oos[BENEFITS[2]].low)
    hi = np.select([is_inp, is_gen], [oos[BENEFITS[0]].high, oos[BENEFITS[1]].high], oos[BENEFITS[2]].high)
    share = lo + (hi - lo) * rng.random(n)
    total = in_scope + np.rint(in_scope * share / (1 - share)).astype(np.int64)
    cb = p.class_b_share.value
    class_b = np.where(is_inp, np.rint(in_scope * (cb.low + (cb.high - cb.low) * rng.random(n))), 0).astype(np.int64)

    comp = p.compliance.value
    return {
        "person_id": people["person_id"][who],
        "date": day.astype("datetime64[D]"),
        "kind": kind,
        "birth_date": people["birth_date"][who],
        "sex": people["sex"][who],
        "group": people["group"][who],
        "hospital_level": level,
        "offsite": offsite,
        "designated": rng.random(n) < comp.designated,
        "registered": rng.random(n) < comp.registered,
        "filed": rng.random(n) < comp.filed,
        "on_time": rng.random(n) < comp.on_time,
        "community_health_center": rng.random(n) < p.general_community_share.value,
        "card": rng.random(n) >= p.special_without_card_share.value,
        "disease": np.maximum(disease, 0).astype(np.int16),
        "total": total,
        "in_scope": in_scope,
        "class_b": class_b,
        "region": people["region"][who],
    }
