"""One partition settled and summed: the function every worker runs, local or on Dask.

A ``Tally`` holds exact integer sums (fen, counts) of one scenario over some partitions, cut by benefit,
prefecture, month, age band and group, plus each person's year (for the out-of-pocket distribution).
Adding the tallies of partitions in any order gives the same numbers, to the fen: that is what makes
a run on a cluster equal to a run on one machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.engine.batch import COLUMNS, KINDS, REFUSALS, settle_batch
from yibao.engine.scale import CompiledScale, compile_scale
from yibao.policy.model import Pack
from yibao.sim.frame import AGE_LABELS, GROUP_LABELS, PREFECTURES, Frame
from yibao.sim.scenario import Scenario
from yibao.sim.store import read_columns, write_table

I64 = npt.NDArray[np.int64]

# Claim measures of the cube; money in fen.
MEASURES = ("claims", "total", "in_scope", "fund_pay", "catastrophic_pay", "personal_pay", "refused")
# Person-year measures, by prefecture, age band and group.
PERSON_MEASURES = ("persons", "over_threshold", "at_ceiling", "with_catastrophic")
_EXACT = 2**53  # below this, every partial sum of non-negative integers is exact in a float64
_REGION_INDEX = np.full(35, -1, dtype=np.int64)
for _i, _code in enumerate(PREFECTURES):
    _REGION_INDEX[(int(_code) - 530000) // 100] = _i


@dataclass
class Tally:
    """Exact sums of one scenario; ``merge`` adds another partition's."""

    cube: I64  # [measure, kind, prefecture, month, age band, group]
    refusals: I64  # [code, (claims, total)]
    persons: I64  # [person measure, prefecture, age band, group]
    band_persons: I64  # [band] person-years whose burden reaches into the band
    band_burden: I64  # [band] fen of burden inside the band
    band_pay: I64  # [band] exact pay in 1/denominator fen
    personal: list[I64] = field(default_factory=list)  # each person-year's own payments, for percentiles

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


def _sum_by(cell: I64, x: npt.NDArray[Any], cells: int) -> I64:
    """Exact per-cell sums of non-negative integers (a float64 sum is exact below 2**53, checked)."""
    if len(x) and int(x.sum()) >= _EXACT:
        out = np.zeros(cells, dtype=np.int64)
        np.add.at(out, cell, x.astype(np.int64))
        return out
    return np.rint(np.bincount(cell, weights=x, minlength=cells)).astype(np.int64)


def scale_of(pack: Pack, day: date) -> tuple[CompiledScale, int]:
    """The catastrophic scale and threshold in force on ``day``."""
    view = pack.at(day)
    threshold: int = view.get("resident.catastrophic.threshold").value
    return compile_scale(view.get("resident.catastrophic.scale").value, threshold), threshold


def _bands(burden: I64, scale: CompiledScale) -> tuple[I64, I64, I64]:
    """Per band: person-years reaching it, burden inside it (fen), exact pay (1/denominator fen)."""
    excess = burden - scale.offset
    ts = scale.thresholds
    persons, inside, pay = [], [], []
    for i, t in enumerate(ts):
        part = np.clip(excess - t, 0, (ts[i + 1] - t) if i + 1 < len(ts) else None)
        persons.append(int(np.count_nonzero(part)))
        inside.append(int(part.sum()))
        pay.append(inside[-1] * scale.numerators[i])
    return np.array(persons, dtype=np.int64), np.array(inside, dtype=np.int64), np.array(pay, dtype=np.int64)


def _tally(
    c: dict[str, npt.NDArray[Any]],
    res: dict[str, npt.NDArray[Any]],
    pack: Pack,
    frame: Frame,
    dims: dict[str, I64],
    starts: I64,
) -> tuple[Tally, I64]:
    """Sum one scenario's settlement of a partition; returns the tally and each person-year's payments."""
    n_k, n_r, n_m, n_a, n_g = len(KINDS), len(PREFECTURES), len(frame.months), len(AGE_LABELS), len(GROUP_LABELS)
    cells = n_k * n_r * n_m * n_a * n_g
    cell = dims["cell"]
    refused = res["refused"]
    money = {
        "total": c["total"],
        "in_scope": c["in_scope"],
        "fund_pay": res["fund_pay"],
        "catastrophic_pay": res["catastrophic_pay"],
        "personal_pay": res["personal_pay"],
    }
    cube = np.stack(
        [
            np.bincount(cell, minlength=cells).astype(np.int64),
            *(_sum_by(cell, money[m], cells) for m in MEASURES[1:-1]),
            np.bincount(cell, weights=refused != 0, minlength=cells).astype(np.int64),
        ]
    ).reshape(len(MEASURES), n_k, n_r, n_m, n_a, n_g)
    refusals = np.stack(
        [
            np.bincount(refused, minlength=len(REFUSALS)).astype(np.int64),
            _sum_by(refused.astype(np.int64), c["total"], len(REFUSALS)),
        ],
        axis=1,
    )
    # Person-years: claims are sorted by person and the frame is one benefit year.
    ends = np.append(starts[1:], len(refused)) - 1
    personal = np.add.reduceat(res["personal_pay"], starts) if len(starts) else np.zeros(0, dtype=np.int64)
    burden = res["catastrophic_base_after"][ends]
    scale, threshold = scale_of(pack, frame.end)
    ceiling = pack.at(frame.end).get("resident.fund_ceiling").value
    caught = np.add.reduceat(res["catastrophic_pay"], starts) if len(starts) else np.zeros(0, dtype=np.int64)
    pcell = dims["person_cell"]
    pcells = n_r * n_a * n_g
    persons = np.stack(
        [
            np.bincount(pcell, minlength=pcells),
            np.bincount(pcell, weights=burden > threshold, minlength=pcells),
            np.bincount(pcell, weights=res["fund_paid_after"][ends] >= ceiling, minlength=pcells),
            np.bincount(pcell, weights=caught > 0, minlength=pcells),
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
        personal=[personal],
    )
    return tally, personal


def _dims(c: dict[str, npt.NDArray[Any]], frame: Frame) -> tuple[dict[str, I64], I64]:
    """Each claim's cell of the cube and each person-year's cell; the first row of each person-year."""
    days = c["date"].astype(np.int64)
    lo, hi = (frame.start - date(1970, 1, 1)).days, (frame.end - date(1970, 1, 1)).days
    if len(days) and (int(days.min()) < lo or int(days.max()) > hi):
        raise ValidationFailed(
            "date",
            f"理赔日期须在待遇年度 {frame.start} 至 {frame.end} 之内",
            f"claim dates must lie in the benefit year {frame.start} to {frame.end}",
        )
    code = c["region"].astype(np.int64)
    slot = (code - 530000) // 100
    ok = (code % 100 == 0) & (slot >= 0) & (slot < len(_REGION_INDEX))
    region = np.where(ok, _REGION_INDEX[np.clip(slot, 0, len(_REGION_INDEX) - 1)], -1)
    if (region < 0).any():
        raise ValidationFailed(
            "region", "有不属于云南16个州（市）的统筹区代码", "a region code is not one of the 16 prefectures"
        )
    age = frame.age_band(c["birth_date"].astype(np.int64))
    n_r, n_m, n_a, n_g = len(PREFECTURES), len(frame.months), len(AGE_LABELS), len(GROUP_LABELS)
    group = c["group"].astype(np.int64)
    month = frame.month_index(days)
    cell = (((c["kind"].astype(np.int64) * n_r + region) * n_m + month) * n_a + age) * n_g + group
    person_cell = (region * n_a + age) * n_g + group
    person = c["person_id"]
    starts = np.flatnonzero(np.concatenate(([True], person[1:] != person[:-1]))) if len(person) else np.zeros(0, int)
    return {"cell": cell, "person_cell": person_cell[starts]}, starts.astype(np.int64)


def settle_partition(
    path: str, scenarios: list[Scenario], frame: Frame, persons_dirs: list[str | None], index: int
) -> PartitionResult:
    """Read one claims partition, settle it under each scenario, and sum it (the per-partition function)."""
    t0 = time.perf_counter()
    c = read_columns(Path(path), [*COLUMNS, "region"])
    dims, starts = _dims(c, frame)
    tallies: list[Tally] = []
    diffs: list[Diff] = []
    reference: I64 | None = None
    for scenario, out in zip(scenarios, persons_dirs, strict=True):
        pack = scenario.pack()
        res = settle_batch(c, pack)
        tally, personal = _tally(c, res, pack, frame, dims, starts)
        tallies.append(tally)
        if out is not None:
            _write_persons(Path(out) / Path(path).name, c, res, starts, personal)
        if reference is None:
            reference = personal
        else:
            diffs.append(_diff(reference, personal, dims["person_cell"], frame))
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


def _write_persons(
    path: Path, c: dict[str, npt.NDArray[Any]], res: dict[str, npt.NDArray[Any]], starts: I64, personal: I64
) -> None:
    """Each person-year of the partition: who, their year's claims and payments (fen)."""
    ends = np.append(starts[1:], len(c["person_id"])) - 1

    def year_sum(x: I64) -> I64:
        out: I64 = np.add.reduceat(x, starts) if len(starts) else np.zeros(0, dtype=np.int64)
        return out

    columns: dict[str, Any] = {
        "person_id": c["person_id"][starts],
        "region": c["region"][starts],
        "birth_date": c["birth_date"][starts],
        "sex": c["sex"][starts],
        "group": c["group"][starts],
        "claims": np.diff(np.append(starts, len(c["person_id"]))),
        "total": year_sum(c["total"]),
        "in_scope": year_sum(c["in_scope"]),
        "fund_pay": res["fund_paid_after"][ends],
        "catastrophic_pay": year_sum(res["catastrophic_pay"]),
        "personal_pay": personal,
        "catastrophic_base": res["catastrophic_base_after"][ends],
    }
    write_table(path, columns)


def empty_tally(frame: Frame, bands: int) -> Tally:
    """A tally of nothing, to merge partitions into."""
    n_r, n_a, n_g = len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS)
    return Tally(
        cube=np.zeros((len(MEASURES), len(KINDS), n_r, len(frame.months), n_a, n_g), dtype=np.int64),
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
