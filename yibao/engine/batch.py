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
effective dates, so claims are mapped to policy periods with ``np.searchsorted`` and parameters are
gathered per period. There is no Python loop per claim.

Under a reform overlay, each claim says which reforms gave values it used (the ``reforms`` bit mask,
bit i for ``pack.reforms[i]``), read on the same path as the scalar engine reads them: a decision lists
exactly the reforms the scalar engine's ``reforms`` names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.benefit_year import benefit_year_keys, civil_from_days
from yibao.engine.running import (
    capped_running,
    cumsum_in_groups,
    group_rows,
    group_totals,
    increments,
    starts_of,
)
from yibao.engine.scale import CompiledScale, compile_scale
from yibao.policy.model import Pack, PolicyView

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

KIND_INPATIENT, KIND_GENERAL, KIND_SPECIAL = 0, 1, 2
KINDS = ("inpatient", "general_outpatient", "special_outpatient")
OFFSITE = ("none", "referral", "emergency")
PLACES = ("level1", "level2", "level3", "offsite")
REFUSALS = (
    "",
    "inpatient.not_designated",
    "inpatient.not_registered",
    "offsite.not_filed",
    "offsite.late_application",
    "general_outpatient.not_community_center",
    "special_outpatient.no_card",
)

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


@dataclass(frozen=True, slots=True)
class _Rates:
    """Each rate table over one common denominator, so rounding divides by a scalar (fast and exact)."""

    inp: I64  # [period, place] numerators over inp_den
    inp_den: int
    cb: I64  # [period]
    cb_den: int
    go: I64  # [period]
    go_den: int
    sp: I64  # [period, disease]
    sp_den: int
    deductible: I64  # [period, place * 2 + child]


def _common(num: I64, den: I64) -> tuple[I64, int]:
    d = int(np.lcm.reduce(den.ravel())) if den.size else 1
    out: I64 = num * (d // den)
    return out, d


def _rates(per: _Periods) -> _Rates:
    inp, inp_den = _common(per.ratio_num, per.ratio_den)
    cb, cb_den = _common(per.cb_num, per.cb_den)
    go, go_den = _common(per.go_num, per.go_den)
    sp, sp_den = _common(per.sp_num, per.sp_den)
    ded = per.deductible.reshape(len(per.starts), len(PLACES) * 2)
    return _Rates(inp, inp_den, cb, cb_den, go, go_den, sp, sp_den, ded)


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Day tables over the batch's span: claims gather their date's facts instead of computing them."""

    lo: int  # day number of the first entry of the date tables
    ymd: npt.NDArray[np.int32]  # yyyymmdd of each claim day
    month: npt.NDArray[np.int32]  # year * 12 + month
    year: I64  # benefit-year key (the year's first day)
    period: npt.NDArray[np.int16]  # policy period, -1 before the first
    birth_lo: int
    birth_ymd: npt.NDArray[np.int32]  # yyyymmdd of each birth day


_MAX_SPAN = 200_000  # days (about 550 years) a day table may cover


def _ymd(days: I64) -> npt.NDArray[np.int32]:
    y, m, d = civil_from_days(days)
    out: npt.NDArray[np.int32] = (y * 10000 + m * 100 + d).astype(np.int32)
    return out


def _calendar(c: Mapping[str, npt.NDArray[Any]], per: _Periods, pack: Pack) -> _Calendar:
    d = c["date"].view(np.int64)
    b = c["birth_date"].view(np.int64)
    lo, hi, blo, bhi = int(d.min()), int(d.max()), int(b.min()), int(b.max())
    for name, span in (("date", hi - lo), ("birth_date", bhi - blo)):
        if span > _MAX_SPAN:
            raise ValidationFailed(name, "日期跨度过大", "the dates span too many years")
    days = np.arange(lo, hi + 1, dtype=np.int64)
    period = (np.searchsorted(per.starts.astype(np.int64), days, side="right") - 1).astype(np.int16)
    # A day before every policy, or in a period where some parameter is missing, has no policy.
    period[(period >= 0) & (per.ceiling[np.maximum(period, 0)] == 0)] = -1
    y, m, _ = civil_from_days(days)
    year = np.zeros(len(days), dtype=np.int64)
    valid = period >= 0  # days without a policy are refused per chunk, before their year is looked at
    year[valid] = benefit_year_keys(days[valid].astype("datetime64[D]"), pack)
    return _Calendar(
        lo=lo,
        ymd=_ymd(days),
        month=(y * 12 + m).astype(np.int32),
        year=year,
        period=period,
        birth_lo=blo,
        birth_ymd=_ymd(np.arange(blo, bhi + 1, dtype=np.int64)),
    )


def _columns(claims: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    missing = [c for c in COLUMNS if c not in claims]
    if missing:
        raise ValidationFailed("columns", f"缺少列：{', '.join(missing)}", f"missing columns: {', '.join(missing)}")
    cols = {c: np.asarray(claims[c]).astype(dt, copy=False) for c, dt in COLUMNS.items()}
    n = len(cols["person_id"])
    if any(len(v) != n for v in cols.values()):
        raise ValidationFailed("columns", "各列长度不一致", "columns differ in length")
    return cols


def _check_amounts(c: Mapping[str, npt.NDArray[Any]]) -> None:
    """Amounts of one chunk: never negative, class B within in-scope within total."""
    total, in_scope, class_b = c["total"], c["in_scope"], c["class_b"]
    # total >= in_scope >= class_b >= 0 implies every amount is non-negative: three checks, not five.
    if (class_b < 0).any() or (in_scope > total).any() or (class_b > in_scope).any():
        for money in ("total", "in_scope", "class_b"):
            if (c[money] < 0).any():
                raise ValidationFailed(money, "金额不能为负数", "amounts must not be negative")
        if (in_scope > total).any():
            raise ValidationFailed("in_scope", "医保范围内费用不能大于总费用", "in_scope must not exceed total")
        raise ValidationFailed("class_b", "乙类费用不能大于医保范围内费用", "class_b must not exceed in_scope")


def _check_order(person: I64, di: I64, persons: I64, before: int | None) -> None:
    """Claims sorted by person, then date: ``persons`` are the rows where the person changes."""
    firsts = person[persons]
    later_day = np.less(di[1:], di[:-1])
    later_day[persons[1:] - 1] = False  # a new person may start on any day
    if (before is not None and firsts[0] <= before) or (np.diff(firsts) <= 0).any() or later_day.any():
        raise ValidationFailed("person_id", "理赔必须按参保人和日期排序", "claims must be sorted by person and date")


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
    cal = _calendar(c, per, pack)
    rates = _rates(per)
    before: int | None = None
    for lo, hi in person_chunks(c["person_id"], chunk_rows):
        chunk = {k: v[lo:hi] for k, v in c.items()}
        _check_amounts(chunk)
        _settle(chunk, {k: v[lo:hi] for k, v in out.items()}, per, rates, cal, before, bool(pack.reforms))
        before = int(chunk["person_id"][-1])
    return out


def _refusals(c: Mapping[str, npt.NDArray[Any]], bad: I64, late: Bool) -> npt.NDArray[np.int8]:
    """The refusal code of each refused claim, in the scalar engine's order of checks."""
    kind = c["kind"][bad]
    code = np.where(kind == KIND_GENERAL, 5, 6).astype(np.int8)  # not a community centre; no card
    stays = np.flatnonzero(kind == KIND_INPATIENT)
    if len(stays):
        rows = bad[stays]
        local = c["offsite"][rows] == 0
        late_r = late if late.ndim == 0 else late[rows]
        code[stays] = np.select(
            [
                local & ~c["designated"][rows],
                local & ~c["registered"][rows],
                ~local & ~c["filed"][rows],
                ~local & ~c["on_time"][rows] & late_r,
            ],
            [1, 2, 3, 4],
            0,
        )
    return code


def _settle(
    c: Mapping[str, npt.NDArray[Any]],
    o: Mapping[str, npt.NDArray[Any]],
    per: _Periods,
    rates: _Rates,
    cal: _Calendar,
    before: int | None,
    marks: bool,
) -> None:
    """Settle one chunk of whole persons into the zeroed output slices ``o`` (``before``: the last chunk's last person)."""
    n = len(c["kind"])
    di = c["date"].view(np.int64) - cal.lo
    dmin, dmax = int(di.min()), int(di.max())
    p_lo, p_hi = int(cal.period[dmin]), int(cal.period[dmax])
    pi = None if p_lo == p_hi else cal.period[di]
    if p_lo < 0 or (pi is not None and (pi < 0).any()):
        raise ValidationFailed("date", "有日期不在任何政策的有效期内", "a date lies outside every policy")

    def at(table: npt.NDArray[Any], rows: I64 | None, *index: Any) -> Any:
        """The parameter for each claim at ``rows`` (all when None); a scalar when the chunk has one period."""
        if pi is None:
            return table[p_lo][index] if index else table[p_lo]
        periods = pi if rows is None else pi[rows]
        return table[(periods, *index)] if index else table[periods]

    def lowest(table: npt.NDArray[Any]) -> int:
        """The smallest value of a parameter over the chunk's periods."""
        return int(table[p_lo : p_hi + 1].min())

    person = c["person_id"]
    persons = starts_of(person)
    _check_order(person, di, persons, before)
    year = None if cal.year[dmin] == cal.year[dmax] else cal.year[di]
    # Each person's benefit year is one group of the yearly accumulators.
    starts = persons if year is None else starts_of(person, year)

    kind = c["kind"]
    is_inp, is_gen, is_sp = kind == KIND_INPATIENT, kind == KIND_GENERAL, kind == KIND_SPECIAL
    local = c["offsite"] == 0
    late = np.asarray(at(per.late_offsite, None) == 1)
    # Refusals, as the scalar engine checks them. A refused claim adds nothing to any accumulator: it
    # is left out of the benefit computations below, so its raw fund amount and its burden stay zero.
    ok_inp = (local & c["designated"] & c["registered"]) | (~local & c["filed"] & (c["on_time"] | ~late))
    ok = (is_inp & ok_inp) | (is_gen & c["community_health_center"]) | (is_sp & c["card"])
    bad = np.flatnonzero(~ok)
    if len(bad):
        o["refused"][bad] = _refusals(c, bad, late)

    in_scope = c["in_scope"]
    raw = o["fund_pay"]  # the raw fund amounts first; the ceiling turns them into payments below
    birth = c["birth_date"].view(np.int64)

    def ymd_gap(rows: I64) -> npt.NDArray[np.int32]:
        """yyyymmdd of the day of care minus yyyymmdd of birth: age >= A exactly when gap >= A * 10000."""
        gap: npt.NDArray[np.int32] = cal.ymd[di[rows]] - cal.birth_ymd[birth[rows] - cal.birth_lo]
        return gap

    def elderly_at(rows: I64) -> Bool:
        """Whether each claim at ``rows`` is a man of 60 or more, or a woman of 55 or more, that day."""
        out: Bool = ymd_gap(rows) >= at(per.elderly_age, rows, c["sex"][rows].astype(np.intp)) * 10000
        return out

    # General outpatient: 50%, per-visit cap, then the yearly cap (higher from the 60th/55th birthday).
    # Every row gets its visit amount (cheaper than gathering the visits), kept where it is a paid visit.
    gen_ok = is_gen & ok
    visit = np.minimum((2 * in_scope * at(rates.go, None) + rates.go_den) // (2 * rates.go_den), at(per.go_visit, None))
    np.multiply(visit, gen_ok, out=raw)
    # The yearly cap matters only to the person-years whose visits add up to more than the lower cap.
    least = min(lowest(per.go_cap), lowest(per.go_cap_elderly))
    over = np.flatnonzero(group_totals(raw, starts) > least)
    if len(over):
        rows, _ = group_rows(starts, n, over)
        gi = rows[gen_ok[rows]]
        g_starts = starts_of(person[gi]) if year is None else starts_of(person[gi], year[gi])
        cap = np.where(elderly_at(gi), at(per.go_cap_elderly, gi), at(per.go_cap, gi))
        raw[gi] = increments(capped_running(raw[gi], cap, g_starts), g_starts)

    # Inpatient: class B prepay, deductible by place and group, fund ratio.
    ii = np.flatnonzero(is_inp & ok)
    if len(ii):
        prepay = (2 * c["class_b"][ii] * at(rates.cb, ii) + rates.cb_den) // (2 * rates.cb_den)
        # 「18周岁以下」 includes 18 (policy.md, "Ages"): a child until the day before the 19th birthday.
        child = (c["group"][ii] == 1) | (ymd_gap(ii) < (at(per.child_age, ii) + 1) * 10000)
        place = np.where(local[ii], c["hospital_level"][ii] - 1, 3).astype(np.intp)
        base = np.maximum(in_scope[ii] - prepay - at(rates.deductible, ii, place * 2 + child), 0)
        raw[ii] = (2 * base * at(rates.inp, ii, place) + rates.inp_den) // (2 * rates.inp_den)

    # Special-disease outpatient: monthly limit per (person, disease, month), then the disease's ratio.
    si = np.flatnonzero(is_sp & ok)
    if len(si):
        dis = c["disease"][si].astype(np.intp)
        limit = at(per.sp_limit, si, dis)
        counted = _monthly_counted(person[si], cal.month[di[si]], dis, in_scope[si], limit)
        raw[si] = (2 * counted * at(rates.sp, si, dis) + rates.sp_den) // (2 * rates.sp_den)

    # The yearly fund ceiling shared by the three benefits: paid = min(cum, C) - min(cum_before, C).
    fund_after = cumsum_in_groups(raw, starts, out=o["fund_paid_after"])
    ceiling = at(per.ceiling, None)
    if pi is not None or int(fund_after.max()) > ceiling:
        np.minimum(fund_after, ceiling, out=fund_after)
        increments(fund_after, starts, out=raw)
    fund = raw  # below the ceiling everywhere, the raw amounts are the payments

    # Catastrophic cover on the cumulative in-scope burden of paid inpatient stays.
    burden = np.zeros(n, dtype=np.int64)
    burden[ii] = in_scope[ii] - fund[ii]
    cat_after = cumsum_in_groups(burden, starts, out=o["catastrophic_base_after"])
    catastrophic = o["catastrophic_pay"]
    after = cat_after[ii]
    for p in range(p_lo, p_hi + 1):
        scale = per.scales[p]
        if scale is None:
            continue
        above = after > scale.offset
        sel = np.flatnonzero(above if pi is None else above & (pi[ii] == p))
        if len(sel):
            rows = ii[sel]
            diff = _scaled(scale, after[sel]) - _scaled(scale, after[sel] - burden[rows])
            catastrophic[rows] = (2 * diff + scale.denominator) // (2 * scale.denominator)
    np.subtract(c["total"], fund, out=o["personal_pay"])
    o["personal_pay"] -= catastrophic
    if marks:
        _mark_reforms(c, o["reforms"], per, pi, p_lo, ok, local, gen_ok, elderly_at)


def _mark_reforms(
    c: Mapping[str, npt.NDArray[Any]],
    reforms: I64,
    per: _Periods,
    pi: npt.NDArray[np.int16] | None,
    p0: int,
    ok: Bool,
    local: Bool,
    gen: Bool,
    elderly_at: Callable[[I64], Bool],
) -> None:
    """Set bit i of each claim whose decision used a value of ``pack.reforms[i]``, as the scalar engine reads them."""
    kind = c["kind"]
    is_inp, is_sp = kind == KIND_INPATIENT, kind == KIND_SPECIAL
    inp, off_filed = is_inp & ok, is_inp & ~local & c["filed"]
    elderly = np.zeros(len(kind), dtype=bool)
    cap_paths = ("resident.general_outpatient.yearly_cap", "resident.general_outpatient.yearly_cap_elderly")
    if any((per.reform[p] >= 0).any() for p in cap_paths):  # which cap a visit read: only asked when it matters
        gi = np.flatnonzero(gen)
        elderly[gi] = elderly_at(gi)
    reads = {
        "resident.fund_ceiling": ok,
        "resident.inpatient.class_b_prepay_ratio": inp & (c["class_b"] > 0),
        "resident.child_age_limit": inp & (c["group"] == 0),
        "resident.inpatient.deductible": inp,
        "resident.inpatient.fund_ratio": inp,
        "resident.catastrophic.threshold": inp,
        "resident.catastrophic.scale": inp,
        "resident.general_outpatient.ratio": gen,
        "resident.general_outpatient.per_visit_cap": gen,
        "resident.general_outpatient.elderly_age": gen,
        "resident.general_outpatient.yearly_cap_elderly": gen & elderly,
        "resident.general_outpatient.yearly_cap": gen & ~elderly,
        "resident.special_outpatient.diseases": is_sp,
        "resident.special_outpatient.monthly_limit": is_sp & ok,
        "resident.special_outpatient.ratio": is_sp & ok,
        "resident.offsite.emergency_filing_days": is_inp & (c["offsite"] == OFFSITE.index("emergency")),
        "resident.offsite.application_deadline_months": off_filed,
        "resident.late_claims_refused": off_filed & ~c["on_time"],
    }
    for path, read in reads.items():
        if pi is None:
            index = int(per.reform[path][p0])
            if index >= 0:
                reforms[read] |= 1 << index
        else:
            per_claim = per.reform[path][pi]
            hit = read & (per_claim >= 0)
            reforms[hit] |= np.left_shift(1, per_claim[hit])


def _monthly_counted(
    person: I64, month: npt.NDArray[np.int32], disease: npt.NDArray[np.intp], x: I64, limit: I64
) -> I64:
    """What each special-disease claim counts within its disease's monthly limit (claims in date order).

    A claim alone in its person-month counts ``min(x, limit)``. Person-months with several claims are
    grouped by disease (date order kept inside) and run against each disease's limit; they are few.
    """
    counted: I64 = np.minimum(x, limit)
    pm = starts_of(person, month)
    lengths = np.diff(pm, append=len(x))
    multi = np.flatnonzero(lengths > 1)
    if len(multi):
        rows, _ = group_rows(pm, len(x), multi)
        run = np.repeat(np.arange(len(multi)), lengths[multi])
        # Sorted by run first, the runs stay where they are: only claims inside a run change places.
        order = rows[np.lexsort((rows, disease[rows], run))]
        groups = starts_of(run, disease[order])
        counted[order] = increments(capped_running(x[order], limit[order], groups), groups)
    return counted


def reform_names(pack: Pack, mask: int) -> tuple[str, ...]:
    """The names of the reforms a batch decision's ``reforms`` bit mask stands for."""
    return tuple(r.name for i, r in enumerate(pack.reforms) if mask >> i & 1)


def _scaled(scale: CompiledScale, x: I64) -> I64:
    """The compiled scale at each amount, in units of 1/denominator fen (vectorized CompiledScale.scaled)."""
    ts = np.array(scale.thresholds, dtype=np.int64)
    nums = np.array(scale.numerators, dtype=np.int64)
    # The scale's value where each band begins, then the part of the amount inside its band.
    at_start = np.concatenate(([0], np.cumsum(np.diff(ts) * nums[:-1])))
    excess = x - scale.offset
    band = np.maximum(np.searchsorted(ts, excess, side="right") - 1, 0)
    total: I64 = np.where(excess > ts[0], at_start[band] + (excess - ts[band]) * nums[band], 0)
    return total
