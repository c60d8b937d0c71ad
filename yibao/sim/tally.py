"""One partition settled and summed: the function every worker runs, local or on Dask.

A ``Tally`` holds exact integer sums (fen, counts) of one scenario over some partitions, cut by benefit,
prefecture, month, age band and group, plus each person's year (for the out-of-pocket distribution).
Adding the tallies of partitions in any order gives the same numbers, to the fen: that is what makes
a run on a cluster equal to a run on one machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.batch import COLUMNS, KINDS, REFUSALS, settle_batch
from yibao.engine.running import group_totals, starts_of
from yibao.engine.scale import CompiledScale, compile_scale
from yibao.policy.model import Pack
from yibao.sim.frame import AGE_LABELS, GROUP_LABELS, PREFECTURES, Frame
from yibao.sim.scenario import Scenario
from yibao.sim.store import read_columns, write_table

I64 = npt.NDArray[np.int64]

# Claim measures of the cube; money in fen.
# ``reformed``: claims whose decision used a value a reform overlay set (the batch's ``reforms`` marks).
MEASURES = ("claims", "total", "in_scope", "fund_pay", "catastrophic_pay", "personal_pay", "refused", "reformed")
# Person-year measures, by prefecture, age band and group.
PERSON_MEASURES = ("persons", "over_threshold", "at_ceiling", "with_catastrophic")
# Claims summed at a time: a chunk's temporaries (a dozen arrays of 8 bytes a claim) stay within a
# core's cache (assumed: 512 KiB or more of L2, as x86 servers have had since 2017).
_CHUNK_ROWS = 1 << 16
_CODES = np.array([int(c) for c in PREFECTURES], dtype=np.int32)  # ascending, as GB/T 2260 lists them
assert (np.diff(_CODES) > 0).all()


@dataclass
class Tally:
    """Exact sums of one scenario; ``merge`` adds another partition's."""

    cube: I64  # [measure, kind, month, prefecture, age band, group]
    refusals: I64  # [code, (claims, total)]
    persons: I64  # [person measure, prefecture, age band, group]
    band_persons: I64  # [band] person-years whose burden reaches into the band
    band_burden: I64  # [band] fen of burden inside the band
    band_pay: I64  # [band] exact pay in 1/denominator fen
    personal: list[I64] = field(default_factory=list)  # each partition's person-years' own payments, sorted

    def merge(self, other: Tally) -> None:
        """Add ``other`` into this tally."""
        for name in ("cube", "refusals", "persons", "band_persons", "band_burden", "band_pay"):
            getattr(self, name).__iadd__(getattr(other, name))
        self.personal.extend(other.personal)


@dataclass
class Diff:
    """Who gains and who loses between a scenario and the reference, by person-year."""

    counts: I64  # [(gain, loss, same), prefecture, age band, group] person-years
    money: I64  # [(gained, lost), prefecture, age band, group] fen of own payments less / more

    def merge(self, other: Diff) -> None:
        """Add ``other`` into this one."""
        self.counts += other.counts
        self.money += other.money


@dataclass
class PartitionResult:
    """What one partition sends back: one tally per scenario, one diff per scenario after the first."""

    index: int
    rows: int
    tallies: list[Tally]
    diffs: list[Diff]
    seconds: float
    cpu_seconds: float = 0.0  # CPU time of the process that settled it, while it did


def _sum_by(cell: I64, x: npt.NDArray[Any], cells: int) -> I64:
    """Exact per-cell sums of integers."""
    out = np.zeros(cells, dtype=np.int64)
    np.add.at(out, cell, x)
    return out


def scale_of(pack: Pack, day: date) -> tuple[CompiledScale, int]:
    """The catastrophic scale and threshold in force on ``day``."""
    view = pack.at(day)
    threshold = view.money("resident.catastrophic.threshold")
    return compile_scale(view.scale("resident.catastrophic.scale"), threshold), threshold


def _bands(burden: I64, scale: CompiledScale) -> tuple[I64, I64, I64]:
    """Per band: person-years reaching it, burden inside it (fen), exact pay (1/denominator fen)."""
    excess = burden - scale.offset
    ts = scale.thresholds
    # Only the few person-years above the scale's first threshold reach any band: the others add zeros.
    excess = excess[excess > ts[0]] if ts else excess
    persons, inside, pay = [], [], []
    for i, t in enumerate(ts):
        part = np.clip(excess - t, 0, (ts[i + 1] - t) if i + 1 < len(ts) else None)
        persons.append(int(np.count_nonzero(part)))
        inside.append(int(part.sum()))
        pay.append(inside[-1] * scale.numerators[i])
    return np.array(persons, dtype=np.int64), np.array(inside, dtype=np.int64), np.array(pay, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Cuts:
    """What a partition's tallies share under every scenario: cells, person-years, and the claims' own sums."""

    cell: I64  # each claim's cell of the cube
    cells: int
    person_cell: I64  # each person-year's cell (prefecture, age band, group)
    starts: I64  # first row of each person-year
    ends: I64  # last row of each person-year
    claims: I64  # [cell] claims
    total: I64  # [cell] fen
    in_scope: I64  # [cell] fen
    persons: I64  # [person cell] person-years
    person_total: I64  # [person-year] fen
    person_in_scope: I64  # [person-year] fen


def _tally(
    res: dict[str, npt.NDArray[Any]], pack: Pack, frame: Frame, cuts: _Cuts, c: dict[str, npt.NDArray[Any]]
) -> tuple[Tally, I64, I64]:
    """Sum one scenario's settlement of a partition; returns the tally, each person-year's own payments
    and catastrophic pay."""
    n_k, n_r, n_m, n_a, n_g = len(KINDS), len(PREFECTURES), len(frame.months), len(AGE_LABELS), len(GROUP_LABELS)
    cell, cells = cuts.cell, cuts.cells
    refused = res["refused"]
    bad = np.flatnonzero(refused)
    cat_pay = res["catastrophic_pay"]
    paid_cat = np.flatnonzero(cat_pay)  # few: the inpatient stays that reach the catastrophic bands
    fund = _sum_by(cell, res["fund_pay"], cells)
    catastrophic = _sum_by(cell[paid_cat], cat_pay[paid_cat], cells)
    # Without reforms no decision used a reformed value: the marks are all zero, not worth a pass.
    reformed = (
        np.bincount(cell[np.flatnonzero(res["reforms"])], minlength=cells)
        if pack.reforms
        else np.zeros(cells, dtype=np.int64)
    )
    cube = np.stack(
        [
            cuts.claims,
            cuts.total,
            cuts.in_scope,
            fund,
            catastrophic,
            cuts.total - fund - catastrophic,  # each claim's own payment is its total less both funds' payments
            np.bincount(cell[bad], minlength=cells).astype(np.int64),
            reformed.astype(np.int64),
        ]
    ).reshape(len(MEASURES), n_k, n_m, n_r, n_a, n_g)
    # Refusals are few: count and sum them alone; what is left was paid.
    codes = refused[bad].astype(np.intp)
    refusals = np.stack(
        [np.bincount(codes, minlength=len(REFUSALS)), _sum_by(codes, c["total"][bad], len(REFUSALS))], axis=1
    ).astype(np.int64)
    refusals[0] = (len(refused) - len(bad), int(cuts.total.sum()) - int(refusals[1:, 1].sum()))
    # Person-years: claims are sorted by person and the frame is one benefit year, so a person-year's
    # fund payments are the fund paid after its last claim, and its own payments its total less both funds'.
    who = np.searchsorted(cuts.starts, paid_cat, side="right") - 1
    person_cat = _sum_by(who, cat_pay[paid_cat], len(cuts.starts))
    person_fund = res["fund_paid_after"][cuts.ends]
    personal = cuts.person_total - person_fund - person_cat
    burden = res["catastrophic_base_after"][cuts.ends]
    scale, threshold = scale_of(pack, frame.end)
    ceiling = pack.at(frame.end).money("resident.fund_ceiling")
    pcell = cuts.person_cell
    pcells = n_r * n_a * n_g
    persons = np.stack(
        [
            cuts.persons,
            np.bincount(pcell[burden > threshold], minlength=pcells),
            np.bincount(pcell[person_fund >= ceiling], minlength=pcells),
            np.bincount(pcell[np.unique(who)], minlength=pcells),
        ]
    ).astype(np.int64)
    bp, bb, bpay = _bands(burden, scale)
    tally = Tally(
        cube=cube,
        refusals=refusals,
        persons=persons.reshape(len(PERSON_MEASURES), n_r, n_a, n_g),
        band_persons=bp,
        band_burden=bb,
        band_pay=bpay,
        personal=[np.sort(personal)],  # sorted here, in parallel with the other workers (yibao.sim.payments)
    )
    return tally, personal, person_cat


def _cuts(c: dict[str, npt.NDArray[Any]], frame: Frame) -> _Cuts:
    """Each claim's cell of the cube and each person-year's cell, and the sums no scenario changes.

    A person's prefecture, age band and group are those of their first claim of the year.
    """
    days = c["date"].view(np.int64)
    lo, hi = (frame.start - date(1970, 1, 1)).days, (frame.end - date(1970, 1, 1)).days
    if len(days) and (int(days.min()) < lo or int(days.max()) > hi):
        raise ValidationFailed(
            "date",
            f"理赔日期须在待遇年度 {frame.start} 至 {frame.end} 之内",
            f"claim dates must lie in the benefit year {frame.start} to {frame.end}",
        )
    kind = c["kind"]
    if len(kind) and (int(kind.min()) < 0 or int(kind.max()) >= len(KINDS)):
        raise ValidationFailed("kind", "待遇类别代码无效", f"kind must be an index into {', '.join(KINDS)}")
    starts = starts_of(c["person_id"])
    ends = np.append(starts[1:], len(days)) - 1
    code = c["region"][starts]
    region = np.searchsorted(_CODES, code)
    if len(code) and (region.max() >= len(_CODES) or (_CODES[np.minimum(region, len(_CODES) - 1)] != code).any()):
        raise ValidationFailed(
            "region", "有不属于云南16个州（市）的统筹区代码", "a region code is not one of the 16 prefectures"
        )
    age = frame.age_band(c["birth_date"][starts].view(np.int64))
    n_r, n_m, n_a, n_g = len(PREFECTURES), len(frame.months), len(AGE_LABELS), len(GROUP_LABELS)
    pcells = n_r * n_a * n_g
    cells = len(KINDS) * n_m * pcells
    person_cell = (region * n_a + age) * n_g + c["group"][starts]
    # Cube axes: kind, month, prefecture, age band, group (the person's three last, broadcast to their
    # claims). Kind and month come from one table over (kind, day of the year): one gather per claim.
    year = np.arange(lo, hi + 1, dtype=np.int64)
    table = ((np.arange(len(KINDS), dtype=np.int64)[:, None] * n_m + frame.month_index(year)) * pcells).ravel()
    n = len(days)
    cell = np.empty(n, dtype=np.int64)
    claims, total, in_scope = (np.zeros(cells, dtype=np.int64) for _ in range(3))
    person_total, person_in_scope = np.empty(len(starts), dtype=np.int64), np.empty(len(starts), dtype=np.int64)
    # Chunk by chunk of whole persons: the dozen passes over each chunk's claims read its temporaries from
    # the core's cache instead of memory (the passes over whole partitions took 1.7 times as long, measured).
    bounds = np.unique(np.searchsorted(starts, np.arange(0, n, _CHUNK_ROWS)))
    for p0, p1 in zip(bounds.tolist(), [*bounds[1:].tolist(), len(starts)], strict=True):
        r0, r1 = int(starts[p0]), (int(starts[p1]) if p1 < len(starts) else n)
        local = starts[p0:p1] - r0
        at = kind[r0:r1].astype(np.int64)
        at *= len(year)
        at += days[r0:r1]
        at -= lo
        here = cell[r0:r1]
        np.take(table, at, out=here)
        here += np.repeat(person_cell[p0:p1], np.diff(local, append=r1 - r0))
        claims += np.bincount(here, minlength=cells)
        np.add.at(total, here, c["total"][r0:r1])
        np.add.at(in_scope, here, c["in_scope"][r0:r1])
        person_total[p0:p1] = group_totals(c["total"][r0:r1], local)
        person_in_scope[p0:p1] = group_totals(c["in_scope"][r0:r1], local)
    return _Cuts(
        cell=cell,
        cells=cells,
        person_cell=person_cell,
        starts=starts,
        ends=ends,
        claims=claims,
        total=total,
        in_scope=in_scope,
        persons=np.bincount(person_cell, minlength=pcells).astype(np.int64),
        person_total=person_total,
        person_in_scope=person_in_scope,
    )


def settle_partition(
    path: str, scenarios: list[Scenario], frame: Frame, persons_dirs: list[str | None], index: int
) -> PartitionResult:
    """Read one claims partition, settle it under each scenario, and sum it (the function a worker runs)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    c = read_partition(path)
    files = [None if d is None else str(Path(d) / Path(path).name) for d in persons_dirs]
    result = settle_columns(c, scenarios, frame, files, index, write=write_table)
    result.seconds = time.perf_counter() - t0
    result.cpu_seconds = time.process_time() - cpu0
    return result


def read_partition(path: str) -> dict[str, npt.NDArray[Any]]:
    """The columns of one claims partition that settling needs."""
    return read_columns(Path(path), [*COLUMNS, "region"])


Writer = Callable[[Path, dict[str, Any]], object]


def settle_columns(
    c: dict[str, npt.NDArray[Any]],
    scenarios: list[Scenario],
    frame: Frame,
    persons_files: list[str | None],
    index: int,
    *,
    write: Writer,
) -> PartitionResult:
    """Settle a partition's claims under each scenario and sum them; ``write`` stores each person-year file."""
    t0 = time.perf_counter()
    cuts = _cuts(c, frame)
    tallies: list[Tally] = []
    diffs: list[Diff] = []
    reference: I64 | None = None
    for scenario, out in zip(scenarios, persons_files, strict=True):
        pack = scenario.pack
        res = settle_batch(c, pack)
        tally, personal, person_cat = _tally(res, pack, frame, cuts, c)
        tallies.append(tally)
        if out is not None:
            write(Path(out), _persons(c, res, cuts, personal, person_cat))
        if reference is None:
            reference = personal
        else:
            diffs.append(_diff(reference, personal, cuts.person_cell, frame))
        del res
    return PartitionResult(index, len(c["person_id"]), tallies, diffs, time.perf_counter() - t0)


def _diff(ref: I64, alt: I64, pcell: I64, frame: Frame) -> Diff:
    """Person-years paying less (gain), more (loss) or the same under ``alt`` than under ``ref``."""
    cells = len(PREFECTURES) * len(AGE_LABELS) * len(GROUP_LABELS)
    delta = alt - ref
    sign = np.where(delta < 0, 0, np.where(delta > 0, 1, 2))
    counts = np.bincount(sign * cells + pcell, minlength=3 * cells).astype(np.int64)
    gained = _sum_by(pcell, np.maximum(-delta, 0), cells)
    lost = _sum_by(pcell, np.maximum(delta, 0), cells)
    shape = (len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS))
    return Diff(counts.reshape(3, *shape), np.stack([gained, lost]).reshape(2, *shape))


def _persons(
    c: dict[str, npt.NDArray[Any]], res: dict[str, npt.NDArray[Any]], cuts: _Cuts, personal: I64, person_cat: I64
) -> dict[str, Any]:
    """Each person-year of the partition: who, their year's claims and payments (fen)."""
    starts, ends = cuts.starts, cuts.ends
    return {
        "person_id": c["person_id"][starts],
        "region": c["region"][starts],
        "birth_date": c["birth_date"][starts],
        "sex": c["sex"][starts],
        "group": c["group"][starts],
        "claims": ends - starts + 1,
        "total": cuts.person_total,
        "in_scope": cuts.person_in_scope,
        "fund_pay": res["fund_paid_after"][ends],
        "catastrophic_pay": person_cat,
        "personal_pay": personal,
        "catastrophic_base": res["catastrophic_base_after"][ends],
    }


def empty_tally(frame: Frame, bands: int) -> Tally:
    """A tally of nothing, to merge partitions into."""
    n_r, n_a, n_g = len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS)
    return Tally(
        cube=np.zeros((len(MEASURES), len(KINDS), len(frame.months), n_r, n_a, n_g), dtype=np.int64),
        refusals=np.zeros((len(REFUSALS), 2), dtype=np.int64),
        persons=np.zeros((len(PERSON_MEASURES), n_r, n_a, n_g), dtype=np.int64),
        band_persons=np.zeros(bands, dtype=np.int64),
        band_burden=np.zeros(bands, dtype=np.int64),
        band_pay=np.zeros(bands, dtype=np.int64),
    )


def empty_diff() -> Diff:
    """A diff of nothing, to merge partitions into."""
    shape = (len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS))
    return Diff(np.zeros((3, *shape), dtype=np.int64), np.zeros((2, *shape), dtype=np.int64))
