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
from yibao.engine.benefit_year import benefit_year_keys, civil_from_days
from yibao.engine.scale import CompiledScale, compile_scale
from yibao.policy.model import Pack

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


def _frac(x: Any) -> tuple[int, int]:
    f = Fraction(x)
    return f.numerator, f.denominator


def _periods(pack: Pack) -> _Periods:
    starts = sorted({dv.start for p in POLICY_PATHS for dv in pack.parameter(p).history})
    rows: list[dict[str, Any]] = []
    for s in starts:
        view = pack.at(s)
        if not all(view.has(p) for p in POLICY_PATHS):
            rows.append({})
            continue
        v = {p: view.get(p).value for p in POLICY_PATHS}
        codes = [d.code for d in v["resident.special_outpatient.diseases"]]
        ded = v["resident.inpatient.deductible"]
        ratio = v["resident.inpatient.fund_ratio"]
        rows.append(
            {
                "ceiling": v["resident.fund_ceiling"],
                "child_age": v["resident.child_age_limit"],
                "deductible": [[ded[p]["general"], ded[p]["student_child"]] for p in PLACES],
                "ratio": [_frac(ratio[p]) for p in PLACES],
                "cb": _frac(v["resident.inpatient.class_b_prepay_ratio"]),
                "cat_threshold": v["resident.catastrophic.threshold"],
                "scale": compile_scale(v["resident.catastrophic.scale"], v["resident.catastrophic.threshold"]),
                "go": _frac(v["resident.general_outpatient.ratio"]),
                "go_visit": v["resident.general_outpatient.per_visit_cap"],
                "go_cap": v["resident.general_outpatient.yearly_cap"],
                "go_cap_elderly": v["resident.general_outpatient.yearly_cap_elderly"],
                "elderly_age": [v["resident.general_outpatient.elderly_age"][s] for s in ("M", "F")],
                "sp_limit": [v["resident.special_outpatient.monthly_limit"][c] for c in codes],
                "sp": [_frac(v["resident.special_outpatient.ratio"][c]) for c in codes],
                "late_offsite": int(any(k.code == "offsite" for k in v["resident.late_claims_refused"])),
            }
        )
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
    )


def _mul_ratio(x: I64, num: I64 | int, den: I64 | int) -> I64:
    """x * num / den rounded half up, for x >= 0 (the scalar engine's mul_ratio)."""
    out: I64 = (2 * x * num + den) // (2 * den)
    return out


def ages_on(birth: I64, on: I64) -> I64:
    """Completed years on each day (the birthday counts as reached), like yibao.core.dates.age_on."""
    by, bm, bd = civil_from_days(birth)
    oy, om, od = civil_from_days(on)
    age: I64 = oy - by - ((om * 100 + od) < (bm * 100 + bd))
    return age


def _group_starts(*keys: npt.NDArray[Any]) -> Bool:
    n = len(keys[0])
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for k in keys:
            new[1:] |= k[1:] != k[:-1]
    return new


def _cumsum_in_groups(x: I64, new: Bool) -> I64:
    """Running sum of x restarting where ``new`` is True (inclusive of the current element)."""
    if len(x) == 0:
        return x.copy()
    cs = np.cumsum(x)
    starts = np.flatnonzero(new)
    y = x.copy()
    # At each group start, take away the previous group's total, so one cumsum restarts at zero.
    later = starts[1:]
    group_totals = np.diff(np.concatenate(([0], cs[starts[1:] - 1])))
    y[later] -= group_totals
    del cs
    np.cumsum(y, out=y)
    return y


def _capped_running(x: I64, cap: I64, new: Bool) -> I64:
    """G_i = min(G_(i-1) + x_i, cap_i) within groups (caps non-decreasing within a group), exactly."""
    if len(x) == 0:
        return x.copy()
    r = _cumsum_in_groups(x, new)
    v = cap - r
    gid = np.cumsum(new) - 1
    span = int(v.max() - v.min()) + 1
    if span * (int(gid[-1]) + 1) >= 2**62:
        raise OverflowError("batch too large for one segmented running minimum; settle it in chunks")
    shifted = v - gid * span  # each group lies wholly below the previous one
    running = np.minimum.accumulate(shifted) + gid * span
    g: I64 = r + np.minimum(running, 0)
    return g


def _increments(g: I64, new: Bool) -> I64:
    """Per-element increase of a running total g that restarts at each group (the inverse of a cumsum)."""
    out = np.empty_like(g)
    if len(g):
        out[0] = g[0]
        np.subtract(g[1:], g[:-1], out=out[1:])
        out[new] = g[new]
    return out


def _columns(claims: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    missing = [c for c in COLUMNS if c not in claims]
    if missing:
        raise ValidationFailed("columns", f"缺少列：{', '.join(missing)}", f"missing columns: {', '.join(missing)}")
    cols = {c: np.asarray(claims[c]).astype(dt, copy=False) for c, dt in COLUMNS.items()}
    n = len(cols["person_id"])
    if any(len(v) != n for v in cols.values()):
        raise ValidationFailed("columns", "各列长度不一致", "columns differ in length")
    for money in ("total", "in_scope", "class_b"):
        if (cols[money] < 0).any():
            raise ValidationFailed(money, "金额不能为负数", "amounts must not be negative")
    if (cols["in_scope"] > cols["total"]).any():
        raise ValidationFailed("in_scope", "医保范围内费用不能大于总费用", "in_scope must not exceed total")
    if (cols["class_b"] > cols["in_scope"]).any():
        raise ValidationFailed("class_b", "乙类费用不能大于医保范围内费用", "class_b must not exceed in_scope")
    p, d = cols["person_id"], cols["date"]
    if n > 1 and ((p[1:] < p[:-1]) | ((p[1:] == p[:-1]) & (d[1:] < d[:-1]))).any():
        raise ValidationFailed("person_id", "理赔必须按参保人和日期排序", "claims must be sorted by person and date")
    return cols


OUTPUTS: dict[str, str] = {
    "fund_pay": "int64",
    "catastrophic_pay": "int64",
    "personal_pay": "int64",
    "refused": "int8",  # index into REFUSALS
    "fund_paid_after": "int64",  # the year's fund paid after this claim
    "catastrophic_base_after": "int64",  # the year's in-scope personal burden after this claim
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
    claims: Mapping[str, npt.NDArray[Any]], pack: Pack, *, chunk_rows: int = 1 << 18
) -> dict[str, npt.NDArray[Any]]:
    """Settle sorted resident claims (inpatient, general and special outpatient); amounts in fen.

    Work proceeds in chunks of whole persons: every accumulator is per person, so chunks are
    independent, their temporaries stay in cache, and peak memory does not grow with the batch.
    """
    c = _columns(claims)
    per = _periods(pack)
    n = len(c["person_id"])
    out = {k: np.empty(n, dtype=dt) for k, dt in OUTPUTS.items()}
    for lo, hi in person_chunks(c["person_id"], chunk_rows):
        res = _settle({k: v[lo:hi] for k, v in c.items()}, per, pack)
        for k, v in res.items():
            out[k][lo:hi] = v
    return out


def _settle(c: Mapping[str, npt.NDArray[Any]], per: _Periods, pack: Pack) -> dict[str, npt.NDArray[Any]]:
    """Settle one chunk of whole persons."""
    d = c["date"]
    kind = c["kind"]
    n = len(d)
    found = np.searchsorted(per.starts, d, side="right") - 1
    if n and ((found < 0).any() or (per.ceiling[found] == 0).any()):
        raise ValidationFailed("date", "有日期不在任何政策的有效期内", "a date lies outside every policy")
    pi = found.astype(np.int16)  # policy period of each claim
    del found
    # Most batches fall in one policy period: then parameters are scalars, not per-claim gathers.
    p0 = int(pi[0]) if n and (pi == pi[0]).all() else None

    def at(table: I64, *index: Any, rows: Any = None) -> Any:
        """The parameter for each claim (or for the claims at ``rows``); a scalar when one period."""
        if p0 is not None:
            return table[p0][index] if index else table[p0]
        periods = pi if rows is None else pi[rows]
        return table[(periods, *index)] if index else table[periods]

    is_inp = kind == KIND_INPATIENT
    is_gen = kind == KIND_GENERAL
    is_sp = kind == KIND_SPECIAL
    local = c["offsite"] == 0

    # Refusals, in the scalar engine's order. A refused claim adds nothing to any accumulator: its raw
    # fund amount and its burden are zero below, so the running totals pass it unchanged.
    refused = np.zeros(n, dtype=np.int8)
    refused[is_sp & ~c["card"]] = 6
    refused[is_gen & ~c["community_health_center"]] = 5
    off = is_inp & ~local
    refused[off & ~c["on_time"] & (at(per.late_offsite) == 1)] = 4
    refused[off & ~c["filed"]] = 3
    refused[is_inp & local & ~c["registered"]] = 2
    refused[is_inp & local & ~c["designated"]] = 1
    ok = refused == 0

    day_no = d.astype(np.int64)
    age = ages_on(c["birth_date"].astype(np.int64), day_no).astype(np.int16)
    in_scope = c["in_scope"]

    # Inpatient: class B prepay, deductible by place and group, fund ratio.
    prepay = _mul_ratio(c["class_b"], at(per.cb_num), at(per.cb_den))
    # 「18周岁以下」 includes 18 (policy.md, "Ages").
    child = (c["group"] == 1) | (age <= at(per.child_age))
    place = np.where(local, c["hospital_level"] - 1, 3).astype(np.intp)
    ded = at(per.deductible, place, child.astype(np.intp))
    base = np.maximum(in_scope - prepay - ded, 0)
    raw = _mul_ratio(base, at(per.ratio_num, place), at(per.ratio_den, place))
    del prepay, ded, base, place, child

    year = benefit_year_keys(d, pack).astype(np.int32)
    new_year = _group_starts(c["person_id"], year)

    # General outpatient: 50%, per-visit cap, then the yearly cap (higher from the 60th/55th birthday).
    gi = np.flatnonzero(is_gen)
    if len(gi):
        visit = np.minimum(
            _mul_ratio(in_scope[gi], at(per.go_num, rows=gi), at(per.go_den, rows=gi)), at(per.go_visit, rows=gi)
        )
        visit[~ok[gi]] = 0
        elderly = age[gi] >= at(per.elderly_age, c["sex"][gi].astype(np.intp), rows=gi)
        cap = np.where(elderly, at(per.go_cap_elderly, rows=gi), at(per.go_cap, rows=gi))
        g_new = _group_starts(c["person_id"][gi], year[gi])
        g = _capped_running(visit, cap, g_new)
        raw[gi] = _increments(g, g_new)

    # Special-disease outpatient: monthly limit per (person, disease, month), then the disease's ratio.
    si = np.flatnonzero(is_sp)
    if len(si):
        sy, sm, _ = civil_from_days(day_no[si])
        month = sy * 12 + sm
        dis = c["disease"][si].astype(np.intp)
        order = np.lexsort((si, dis, month, c["person_id"][si]))
        sj = si[order]
        ds = dis[order]
        amount = np.where(ok[sj], in_scope[sj], 0)
        s_new = _group_starts(c["person_id"][sj], month[order], ds)
        m = _capped_running(amount, np.broadcast_to(at(per.sp_limit, ds, rows=sj), ds.shape), s_new)
        counted = _increments(m, s_new)
        raw[sj] = _mul_ratio(counted, at(per.sp_num, ds, rows=sj), at(per.sp_den, ds, rows=sj))

    del day_no, age
    raw[~ok] = 0
    # The yearly fund ceiling shared by the three benefits: paid = min(cum, C) - min(cum_before, C).
    fund_after = _cumsum_in_groups(raw, new_year)
    del raw
    np.minimum(fund_after, at(per.ceiling), out=fund_after)
    fund = _increments(fund_after, new_year)

    # Catastrophic cover on the cumulative in-scope burden of inpatient stays.
    paid_stay = is_inp & ok
    burden = np.where(paid_stay, in_scope - fund, 0)
    cat_after = _cumsum_in_groups(burden, new_year)
    catastrophic = np.zeros(n, dtype=np.int64)
    stays = np.flatnonzero(paid_stay)
    after, before, periods = cat_after[stays], cat_after[stays] - burden[stays], pi[stays]
    del burden
    for p in np.unique(periods):
        scale = per.scales[int(p)]
        assert scale is not None  # complete periods only (checked above)
        sel = periods == p
        diff = _scaled(scale, after[sel]) - _scaled(scale, before[sel])
        catastrophic[stays[sel]] = (2 * diff + scale.denominator) // (2 * scale.denominator)

    return {
        "fund_pay": fund,
        "catastrophic_pay": catastrophic,
        "personal_pay": c["total"] - fund - catastrophic,
        "refused": refused,
        "fund_paid_after": fund_after,
        "catastrophic_base_after": cat_after,
    }


def _scaled(scale: CompiledScale, x: I64) -> I64:
    """The compiled scale at each amount, in units of 1/denominator fen (vectorized CompiledScale.scaled)."""
    excess = x - scale.offset
    total: I64 = np.zeros_like(excess)
    ts = scale.thresholds
    for i, t in enumerate(ts):
        width = (ts[i + 1] - t) if i + 1 < len(ts) else None
        part = np.clip(excess - t, 0, width)
        total += part * scale.numerators[i]
    return total
