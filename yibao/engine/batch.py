"""A year (or many) of resident claims settled at once, with the same results as the scalar engine.

Claims come as NumPy columns sorted by person and date. Yearly accumulators are per-person,
per-benefit-year cumulative sums, so no claim waits for the one before it:

- the shared fund ceiling C: ``paid_i = min(cum_i, C) - min(cum_(i-1), C)`` over the raw fund amounts;
- catastrophic cover: ``pay_i = round(S(cum_i) - S(cum_(i-1)))`` with the scale S evaluated exactly in
  integer units of 1/D fen;
- capped running totals whose cap may rise within the group (the general outpatient yearly cap rises
  on a 60th/55th birthday; special-disease monthly limits): ``G_i = R_i + min(0, min_(j<=i)(cap_j - R_j))``
  with R the running sum, computed with a segmented ``np.minimum.accumulate``.

Every parameter is read from the pack at each claim's date of service: values change only on
effective dates, so each day of the batch's span is mapped once to its policy period (a day table) and
parameters are gathered per period, or taken as scalars when a chunk lies in one period. There is no Python
loop per claim. This module reads the pack and cuts the batch into chunks of whole persons;
``yibao.engine.batch_chunk`` settles a chunk.

Under a reform overlay, each claim says which reforms gave values it used (the ``reforms`` bit mask,
bit i for ``pack.reforms[i]``), read on the same path as the scalar engine reads them: a decision lists
exactly the reforms the scalar engine's ``reforms`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.batch_chunk import (
    KIND_GENERAL,
    KIND_INPATIENT,
    KIND_SPECIAL,
    KINDS,
    OFFSITE,
    PLACES,
    REFUSALS,
    check_amounts,
    day_tables,
    rates_of,
    settle_chunk,
)
from yibao.engine.benefit_year import civil_from_days
from yibao.engine.scale import CompiledScale, compile_scale
from yibao.policy.model import Pack, PolicyView

__all__ = [
    "COLUMNS",
    "KINDS",
    "KIND_GENERAL",
    "KIND_INPATIENT",
    "KIND_SPECIAL",
    "OFFSITE",
    "OUTPUTS",
    "PLACES",
    "POLICY_PATHS",
    "REFUSALS",
    "ages_on",
    "person_chunks",
    "reform_names",
    "settle_batch",
]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

# name -> dtype of every input column (money in fen, dates as datetime64[D], flags as bool).
COLUMNS: dict[str, str] = {
    "person_id": "int64",
    "date": "datetime64[D]",
    "kind": "int8",  # index into KINDS
    "birth_date": "datetime64[D]",
    "sex": "int8",  # 0 = M, 1 = F
    "group": "int8",  # 0 = general, 1 = student_child
    "hospital_level": "int8",  # 1..3
    "offsite": "int8",  # index into OFFSITE
    "designated": "bool",
    "registered": "bool",
    "filed": "bool",  # off-site: referral approved / emergency filed in time
    "on_time": "bool",  # off-site: applied within the deadline after discharge
    "community_health_center": "bool",
    "card": "bool",
    "disease": "int16",  # index into resident.special_outpatient.diseases
    "total": "int64",
    "in_scope": "int64",
    "class_b": "int64",
}

# The pack parameters the batch reads (reports list their sources).
POLICY_PATHS = (
    "resident.fund_ceiling",
    "resident.child_age_limit",
    "resident.inpatient.deductible",
    "resident.inpatient.fund_ratio",
    "resident.inpatient.class_b_prepay_ratio",
    "resident.catastrophic.threshold",
    "resident.catastrophic.scale",
    "resident.general_outpatient.ratio",
    "resident.general_outpatient.per_visit_cap",
    "resident.general_outpatient.yearly_cap",
    "resident.general_outpatient.yearly_cap_elderly",
    "resident.general_outpatient.elderly_age",
    "resident.special_outpatient.diseases",
    "resident.special_outpatient.monthly_limit",
    "resident.special_outpatient.ratio",
    "resident.late_claims_refused",
)
# Read by the scalar engine for off-site stays; the batch takes their outcome as the ``filed`` and
# ``on_time`` flags, but a decision still rests on them (and on their reforms).
_FLAG_PATHS = ("resident.offsite.emergency_filing_days", "resident.offsite.application_deadline_months")


@dataclass(frozen=True, slots=True)
class _Periods:
    """Parameters of each policy period, as arrays indexed by period."""

    starts: npt.NDArray[np.datetime64]
    ceiling: I64
    child_age: I64
    deductible: I64  # [period, place, child]
    ratio_num: I64  # [period, place]
    ratio_den: I64
    cb_num: I64
    cb_den: I64
    cat_threshold: I64
    go_num: I64
    go_den: I64
    go_visit: I64
    go_cap: I64
    go_cap_elderly: I64
    elderly_age: I64  # [period, sex]
    sp_limit: I64  # [period, disease]
    sp_num: I64
    sp_den: I64
    late_offsite: I64  # 1 when a late off-site application is refused (an assumed reading)
    scales: tuple[CompiledScale | None, ...]
    reform: dict[str, I64]  # path -> index into pack.reforms of the reform that set it, -1 when none


def _frac(x: Fraction) -> tuple[int, int]:
    return x.numerator, x.denominator


def _period(v: PolicyView) -> dict[str, Any]:
    """One policy period's parameters, as the arrays below take them."""
    codes = v.codes("resident.special_outpatient.diseases")
    threshold = v.money("resident.catastrophic.threshold")
    return {
        "ceiling": v.money("resident.fund_ceiling"),
        "child_age": v.whole("resident.child_age_limit"),
        "deductible": [
            [v.money("resident.inpatient.deductible", p, g) for g in ("general", "student_child")] for p in PLACES
        ],
        "ratio": [_frac(v.ratio("resident.inpatient.fund_ratio", p)) for p in PLACES],
        "cb": _frac(v.ratio("resident.inpatient.class_b_prepay_ratio")),
        "cat_threshold": threshold,
        "scale": compile_scale(v.scale("resident.catastrophic.scale"), threshold),
        "go": _frac(v.ratio("resident.general_outpatient.ratio")),
        "go_visit": v.money("resident.general_outpatient.per_visit_cap"),
        "go_cap": v.money("resident.general_outpatient.yearly_cap"),
        "go_cap_elderly": v.money("resident.general_outpatient.yearly_cap_elderly"),
        "elderly_age": [v.whole("resident.general_outpatient.elderly_age", s) for s in ("M", "F")],
        "sp_limit": [v.money("resident.special_outpatient.monthly_limit", c) for c in codes],
        "sp": [_frac(v.ratio("resident.special_outpatient.ratio", c)) for c in codes],
        "late_offsite": int("offsite" in v.codes("resident.late_claims_refused")),
    }


def _reform_of(pack: Pack, view: PolicyView, path: str) -> int:
    """Index into ``pack.reforms`` of the reform whose value of ``path`` is in force, -1 when none."""
    if not view.has(path):
        return -1
    c = view.get(path).citation
    return next((i for i, r in enumerate(pack.reforms) if (r.name, r.title) == (c.overlay, c.reform)), -1)


def _periods(pack: Pack) -> _Periods:
    starts = sorted({dv.start for p in (*POLICY_PATHS, *_FLAG_PATHS) for dv in pack.parameter(p).history})
    rows: list[dict[str, Any]] = []
    for s in starts:
        view = pack.at(s)
        rows.append(_period(view) if all(view.has(p) for p in POLICY_PATHS) else {})
    reform = {
        p: np.array([_reform_of(pack, pack.at(s), p) for s in starts], dtype=np.int64)
        for p in (*POLICY_PATHS, *_FLAG_PATHS)
    }
    ok = [r for r in rows if r]
    if not ok:
        raise ValidationFailed("date", "没有有效的居民医保政策期", "no resident policy period is complete")
    n_dis = max(len(r["sp_limit"]) for r in ok)

    def col(key: str, default: Any) -> I64:
        return np.array([r.get(key, default) if r else default for r in rows], dtype=np.int64)

    def pair(key: str, i: int) -> I64:
        return np.array([(r[key][i] if r else 1) for r in rows], dtype=np.int64)

    zero_places = [[0, 0]] * len(PLACES)
    return _Periods(
        starts=np.array(starts, dtype="datetime64[D]"),
        ceiling=col("ceiling", 0),
        child_age=col("child_age", 0),
        deductible=np.array([r["deductible"] if r else zero_places for r in rows], dtype=np.int64),
        ratio_num=np.array([[n for n, _ in r["ratio"]] if r else [0] * 4 for r in rows], dtype=np.int64),
        ratio_den=np.array([[d for _, d in r["ratio"]] if r else [1] * 4 for r in rows], dtype=np.int64),
        cb_num=pair("cb", 0),
        cb_den=pair("cb", 1),
        cat_threshold=col("cat_threshold", 0),
        go_num=pair("go", 0),
        go_den=pair("go", 1),
        go_visit=col("go_visit", 0),
        go_cap=col("go_cap", 0),
        go_cap_elderly=col("go_cap_elderly", 0),
        elderly_age=np.array([r["elderly_age"] if r else [0, 0] for r in rows], dtype=np.int64),
        sp_limit=np.array([(r["sp_limit"] + [0] * n_dis)[:n_dis] if r else [0] * n_dis for r in rows], dtype=np.int64),
        sp_num=np.array(
            [([n for n, _ in r["sp"]] + [0] * n_dis)[:n_dis] if r else [0] * n_dis for r in rows], dtype=np.int64
        ),
        sp_den=np.array(
            [([d for _, d in r["sp"]] + [1] * n_dis)[:n_dis] if r else [1] * n_dis for r in rows], dtype=np.int64
        ),
        late_offsite=col("late_offsite", 0),
        scales=tuple(r.get("scale") for r in rows),
        reform=reform,
    )


def ages_on(birth: I64, on: I64) -> I64:
    """Completed years on each day (the birthday counts as reached), like yibao.core.dates.age_on."""
    by, bm, bd = civil_from_days(birth)
    oy, om, od = civil_from_days(on)
    age: I64 = oy - by - ((om * 100 + od) < (bm * 100 + bd))
    return age


def _columns(claims: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    missing = [c for c in COLUMNS if c not in claims]
    if missing:
        raise ValidationFailed("columns", f"缺少列：{', '.join(missing)}", f"missing columns: {', '.join(missing)}")
    cols = {c: np.asarray(claims[c]).astype(dt, copy=False) for c, dt in COLUMNS.items()}
    n = len(cols["person_id"])
    if any(len(v) != n for v in cols.values()):
        raise ValidationFailed("columns", "各列长度不一致", "columns differ in length")
    return cols


OUTPUTS: dict[str, str] = {
    "fund_pay": "int64",
    "catastrophic_pay": "int64",
    "personal_pay": "int64",
    "refused": "int8",  # index into REFUSALS
    "fund_paid_after": "int64",  # the year's fund paid after this claim
    "catastrophic_base_after": "int64",  # the year's in-scope personal burden after this claim
    "reforms": "int64",  # bit i set: the decision used a value of pack.reforms[i]
}


def person_chunks(person: I64, rows: int) -> list[tuple[int, int]]:
    """Row ranges of about ``rows`` rows that never split a person (so accumulators stay exact)."""
    n = len(person)
    if n == 0:
        return []
    changes = np.flatnonzero(person[1:] != person[:-1]) + 1
    targets = np.arange(rows, n, rows)
    cuts: list[int] = []
    if len(changes):
        cuts = changes[np.minimum(np.searchsorted(changes, targets), len(changes) - 1)].tolist()
    bounds = sorted({0, n, *(x for x in cuts if 0 < x < n)})
    return list(pairwise(bounds))


def settle_batch(
    claims: Mapping[str, npt.NDArray[Any]], pack: Pack, *, chunk_rows: int = 1 << 16
) -> dict[str, npt.NDArray[Any]]:
    """Settle sorted resident claims (inpatient, general and special outpatient); amounts in fen.

    Work proceeds in chunks of whole persons: every accumulator is per person, so chunks are
    independent, their temporaries stay in cache, and peak memory does not grow with the batch.
    Each chunk writes its results straight into the output arrays.
    """
    c = _columns(claims)
    per = _periods(pack)
    n = len(c["person_id"])
    out = {k: np.empty(n, dtype=dt) for k, dt in OUTPUTS.items()}
    if n == 0:
        return out
    for v in out.values():
        # Touch the output pages now, in one sweep: faulting them in chunk by chunk zeroes fresh pages in
        # the middle of the computation and evicts the chunk's working set from the cache.
        v.fill(0)
    cal = day_tables(c, per, pack)
    rates = rates_of(per)
    before: int | None = None
    for lo, hi in person_chunks(c["person_id"], chunk_rows):
        chunk = {k: v[lo:hi] for k, v in c.items()}
        check_amounts(chunk)
        settle_chunk(chunk, {k: v[lo:hi] for k, v in out.items()}, per, rates, cal, before, bool(pack.reforms))
        before = int(chunk["person_id"][-1])
    return out


def reform_names(pack: Pack, mask: int) -> tuple[str, ...]:
    """The names of the reforms a batch decision's ``reforms`` bit mask stands for."""
    return tuple(r.name for i, r in enumerate(pack.reforms) if mask >> i & 1)
