"""One chunk of whole persons settled at once: the vectorized rules behind ``yibao.engine.batch``.

``settle_batch`` cuts the claims into chunks of whole persons (about 65,000 claims, so that the
temporaries stay in cache) and hands each to ``settle_chunk`` with what it looks up: the policy periods'
parameters, the rates over one common denominator (``Rates``), and the day tables (``DayTables``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.benefit_year import benefit_year_keys, civil_from_days
from yibao.engine.running import capped_running, cumsum_in_groups, group_rows, group_totals, increments, starts_of
from yibao.engine.scale import CompiledScale
from yibao.policy.model import Pack

if TYPE_CHECKING:
    from yibao.engine.batch import _Periods

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


@dataclass(frozen=True, slots=True)
class Rates:
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


def rates_of(per: _Periods) -> Rates:
    inp, inp_den = _common(per.ratio_num, per.ratio_den)
    cb, cb_den = _common(per.cb_num, per.cb_den)
    go, go_den = _common(per.go_num, per.go_den)
    sp, sp_den = _common(per.sp_num, per.sp_den)
    ded = per.deductible.reshape(len(per.starts), len(PLACES) * 2)
    return Rates(inp, inp_den, cb, cb_den, go, go_den, sp, sp_den, ded)


@dataclass(frozen=True, slots=True)
class DayTables:
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


def day_tables(c: Mapping[str, npt.NDArray[Any]], per: _Periods, pack: Pack) -> DayTables:
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
    return DayTables(
        lo=lo,
        ymd=_ymd(days),
        month=(y * 12 + m).astype(np.int32),
        year=year,
        period=period,
        birth_lo=blo,
        birth_ymd=_ymd(np.arange(blo, bhi + 1, dtype=np.int64)),
    )


def check_amounts(c: Mapping[str, npt.NDArray[Any]]) -> None:
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


def settle_chunk(
    c: Mapping[str, npt.NDArray[Any]],
    o: Mapping[str, npt.NDArray[Any]],
    per: _Periods,
    rates: Rates,
    cal: DayTables,
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
