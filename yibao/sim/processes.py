"""Partitions settled by a pool of processes on this machine: every core at work, without a Dask cluster.

Two threads settle no faster than one (measured on 2 cores: the engine's many NumPy steps, each a few
hundred microseconds, take the GIL between them), so each core gets a process of its own. A worker runs
the same per-partition function as a Dask worker (``settle_partition``) and sends back the same exact
sums, so the report is the same to the fen whichever way it ran.

Workers are forked from this process when it runs no other Python thread (the command line: workers start
in milliseconds with the engine and the pack already loaded, and their CPU time is counted as this
command's); otherwise (a process that has run a Dask client, say) from a fork server, as forking a
process whose threads may hold locks is not safe. A fork server or fresh interpreters would import
NumPy, Arrow and the engine again: about 0.6 s of CPU each, measured.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from yibao.sim.cluster import progress_bar
from yibao.sim.frame import Frame
from yibao.sim.scenario import Scenario
from yibao.sim.tally import PartitionResult, settle_partition

# glibc's mallopt parameters (malloc.h) and the values this module gives them.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Freed memory a process keeps for reuse, and the size from which a block gets a mapping of its own: the
# same as a Dask worker's (cluster.WORKER_ENVIRONMENT). glibc's defaults give back the top of the heap at
# every free and map each partition's large arrays afresh: their pages are faulted in and zeroed again for
# every partition (about 870 page faults per 14 MB array, measured; none with these values).
KEEP_FREED_BYTES = 256 * 2**20
MAP_FROM_BYTES = 64 * 2**20
# What a worker holds at its peak: bytes per claim of the partition it settles (the freed memory it keeps
# is reused within them), and the interpreter with NumPy, Arrow and the pack (measured: about 250 bytes and
# 100 MB, docs/sim.md; assumed with a margin). By default no more workers start than the memory holds.
WORKER_BYTES_PER_CLAIM = 300
WORKER_BASE_BYTES = 256 * 2**20

_job: tuple[list[Scenario], Frame, list[str | None]] | None = None  # a worker's scenarios, frame and folders


def keep_freed_memory() -> None:
    """Make this process's allocator keep freed memory for the next partition (glibc only; else nothing)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError, TypeError):
        return  # not glibc: its allocator keeps its own counsel
    mallopt(_M_MMAP_THRESHOLD, MAP_FROM_BYTES)
    mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux's MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def processes_for(rows: Sequence[int], wanted: int | None) -> int:
    """How many processes settle partitions of ``rows`` claims: ``wanted``, or one per usable core that the
    available memory holds; never more than there are partitions."""
    n = min(usable_cores() if wanted is None else wanted, len(rows))
    memory = available_memory()
    if wanted is None and memory is not None and rows:
        n = min(n, max(1, memory // (WORKER_BASE_BYTES + WORKER_BYTES_PER_CLAIM * max(rows))))
    return max(n, 1)


def _start(scenarios: list[Scenario], frame: Frame, dirs: list[str | None]) -> None:
    """A worker's start: the allocator set, the scenarios kept (sent once per worker, not per partition)."""
    global _job
    keep_freed_memory()
    # What the worker inherited (modules, the pack) lives as long as it does: out of the collector's sight,
    # a full collection no longer walks it (3% of a partition's time went to collecting, measured).
    gc.freeze()
    _job = (scenarios, frame, dirs)


def _settle(path: str, index: int) -> PartitionResult:
    assert _job is not None, "a worker settles only after _start"
    scenarios, frame, dirs = _job
    return settle_partition(path, scenarios, frame, dirs, index)


def settle_in_processes(
    files: Sequence[tuple[str, int]],
    scenarios: list[Scenario],
    frame: Frame,
    dirs: list[str | None],
    processes: int,
    *,
    meanwhile: Callable[[], object] | None = None,
    quiet: bool = False,
) -> list[PartitionResult]:
    """Settle each (file, partition index) in a pool of ``processes`` worker processes; results in any order.

    ``meanwhile`` runs here once the workers have started (this process would otherwise only wait).
    """
    results: list[PartitionResult] = []
    with ProcessPoolExecutor(
        max_workers=processes, mp_context=_context(), initializer=_start, initargs=(scenarios, frame, dirs)
    ) as pool:
        # The first submission starts every worker; the progress bar's thread starts only after it.
        futures = [pool.submit(_settle, path, index) for path, index in files]
        if meanwhile is not None:
            meanwhile()
        with progress_bar(quiet) as progress:
            task = progress.add_task("结算 settling", total=len(files))
            for future in as_completed(futures):
                results.append(future.result())
                progress.advance(task)
    return results


def can_fork() -> bool:
    """Whether this process may fork: the platform forks, and no other Python thread runs here."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _context() -> multiprocessing.context.BaseContext:
    """Fork when no other Python thread runs here; a fork server (or spawn where there is none) otherwise."""
    methods = multiprocessing.get_all_start_methods()
    if can_fork():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["yibao.sim.tally"])
        return context
    return multiprocessing.get_context("spawn")
