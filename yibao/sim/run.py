"""Settling a simulated year, partition by partition, and merging the partitions' exact sums.

Partitions are settled in a pool of processes on this machine (one per core), in this process alone
(``processes=1``), or on a Dask cluster. Memory stays bounded by one partition per worker: claims are
never loaded all at once. What comes back from each partition is small (a few thousand sums) except each
person-year's own payments (8 bytes per person-year), kept for exact percentiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from yibao.sim.cluster import map_partitions, progress_bar
from yibao.sim.frame import Frame
from yibao.sim.payments import OwnPayments
from yibao.sim.processes import keep_freed_memory, processes_for, settle_in_processes
from yibao.sim.scenario import Scenario
from yibao.sim.store import Partition, partitions, read_manifest, write_table
from yibao.sim.tally import (
    Diff,
    PartitionResult,
    Tally,
    empty_diff,
    empty_tally,
    read_partition,
    scale_of,
    settle_columns,
    settle_partition,
)


def _write_later(pool: ThreadPoolExecutor, into: list[Future[object]], path: Path, columns: dict[str, Any]) -> object:
    """Queue a Parquet file to be written by the pool (the engine goes on meanwhile)."""
    into.append(pool.submit(write_table, path, columns))
    return None


def _settle_here(
    claims: Path,
    parts: list[Partition],
    scenarios: list[Scenario],
    frame: Frame,
    dirs: list[str | None],
    *,
    quiet: bool,
) -> list[PartitionResult]:
    """Settle partition after partition in this process, reading the next and writing the last meanwhile.

    Parquet reading and writing release the GIL: on two cores the next partition is decoded, and the
    previous one's person-years are written, while this one is settled.
    """
    results: list[PartitionResult] = []
    with ThreadPoolExecutor(max_workers=2) as pool, progress_bar(quiet) as progress:
        task = progress.add_task("结算 settling", total=len(parts))
        writes: list[Future[object]] = []  # the person-year files of the last partition, being written
        ahead = pool.submit(read_partition, str(claims / parts[0].file)) if parts else None
        for i, part in enumerate(parts):
            assert ahead is not None
            t0, cpu0 = time.perf_counter(), time.process_time()
            c = ahead.result()
            if i + 1 < len(parts):
                ahead = pool.submit(read_partition, str(claims / parts[i + 1].file))
            files = [None if d is None else str(Path(d) / part.file) for d in dirs]
            earlier, writes = writes, []
            write = partial(_write_later, pool, writes)
            r = settle_columns(c, scenarios, frame, files, part.index, write=write)
            for w in earlier:  # at most one partition's files wait to be written: memory stays bounded
                w.result()
            r.seconds = time.perf_counter() - t0
            r.cpu_seconds = time.process_time() - cpu0  # this process's threads, reading and writing too
            results.append(r)
            del c
            progress.advance(task)
        for w in writes:
            w.result()
    return results


@dataclass
class Outcome:
    """A settled year: per scenario its merged tally and persons' payments, per alternative its diff."""

    manifest: dict[str, Any]
    frame: Frame
    scenarios: list[Scenario]
    tallies: list[Tally]
    personal: list[OwnPayments]  # each scenario's person-years' own payments (fen)
    diffs: list[Diff]
    rows: int
    seconds: float
    worker_seconds: float
    worker_cpu_seconds: float
    processes: int  # processes that settled here (0 on a Dask cluster)


def settle_claims(
    claims: Path,
    scenarios: list[Scenario],
    persons_dirs: list[Path | None],
    *,
    client: Any = None,
    processes: int | None = None,
    meanwhile: Callable[[], object] | None = None,
    quiet: bool = False,
) -> Outcome:
    """Settle every partition of ``claims`` under each scenario and merge the sums.

    Without a Dask ``client``, partitions go to ``processes`` worker processes (default: one per usable
    core, as many as the available memory holds); with one process, or one partition, they are settled in
    this process. ``meanwhile`` runs in this process while workers settle (before settling, when there are
    none).
    """
    t0 = time.perf_counter()
    manifest = read_manifest(claims, "claims")
    frame = Frame.from_dict(manifest["benefit_year"])
    for d in persons_dirs:
        if d is not None:
            d.mkdir(parents=True, exist_ok=True)
    dirs = [str(d) if d is not None else None for d in persons_dirs]
    parts = partitions(manifest)
    here = processes_for([p.rows for p in parts], processes)
    if client is None and here > 1:
        files = [(str(claims / p.file), p.index) for p in parts]
        results = settle_in_processes(files, scenarios, frame, dirs, here, meanwhile=meanwhile, quiet=quiet)
    elif client is None:
        keep_freed_memory()
        if meanwhile is not None:
            meanwhile()
        results = _settle_here(claims, parts, scenarios, frame, dirs, quiet=quiet)
    else:
        items = [(str(claims / p.file), scenarios, frame, dirs, p.index) for p in parts]
        results = map_partitions(client, settle_partition, items, "结算 settling", meanwhile=meanwhile, quiet=quiet)
    bands = [len(scale_of(s.pack, frame.end)[0].thresholds) for s in scenarios]
    tallies = [empty_tally(frame, b) for b in bands]
    diffs = [empty_diff() for _ in scenarios[1:]]
    for r in sorted(results, key=lambda r: r.index):
        for total, part in zip(tallies, r.tallies, strict=True):
            total.merge(part)
        for total_d, part_d in zip(diffs, r.diffs, strict=True):
            total_d.merge(part_d)
    personal = [OwnPayments(t.personal) for t in tallies]
    for t in tallies:
        t.personal = []
    return Outcome(
        manifest=manifest,
        frame=frame,
        scenarios=scenarios,
        tallies=tallies,
        personal=personal,
        diffs=diffs,
        rows=sum(r.rows for r in results),
        seconds=time.perf_counter() - t0,
        worker_seconds=sum(r.seconds for r in results),
        worker_cpu_seconds=sum(r.cpu_seconds for r in results),
        processes=0 if client is not None else here,
    )
