"""Where partitions run: in this process, on a local Dask cluster, or on an existing Dask scheduler.

``--cluster local:N`` starts a dask.distributed cluster of N worker processes (one thread each: the
engine is NumPy, one core per worker); ``--scheduler ADDRESS`` connects to a running one (a cluster
started with dask-kubernetes, dask-jobqueue or ``dask scheduler`` / ``dask worker``). Either way the
same per-partition function runs on every partition, and the results are merged in partition order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from yibao.core.errors import ValidationFailed

R = TypeVar("R")
# Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, so that freed memory goes back to the system at
# once. Setting it also fixes glibc's mmap threshold at 128 KiB: each of the engine's temporaries (a few
# hundred KiB a chunk) is then mapped and zeroed afresh, and a chunk settles three times slower (measured:
# 106 against 35 ns a claim). Workers keep up to 256 MiB of freed heap instead, and map only blocks of
# 64 MiB or more; a cluster started elsewhere takes the same two variables (docs/sim.md).
WORKER_ENVIRONMENT = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 256 * 2**20,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 64 * 2**20,
}
console = Console(stderr=True)
_LOCAL = re.compile(r"^local:([1-9][0-9]{0,2})$")


def progress_bar(quiet: bool = False) -> Progress:
    """The progress bar of long runs (on standard error)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )


def workers_of(cluster: str) -> int:
    """The N of ``local:N``, or a clear error."""
    m = _LOCAL.match(cluster)
    if m is None:
        raise ValidationFailed(
            "cluster", f"{cluster!r} 应为 local:N（如 local:2）", f"{cluster!r} must be local:N, e.g. local:2"
        )
    return int(m.group(1))


@contextmanager
def open_client(cluster: str | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client for ``--cluster local:N`` or ``--scheduler ADDRESS``; None to run here."""
    if cluster and scheduler:
        raise ValidationFailed(
            "cluster", "--cluster 与 --scheduler 只能选一个", "give --cluster or --scheduler, not both"
        )
    if not cluster and not scheduler:
        yield None
        return
    # distributed's constructors carry no annotations: the calls below are checked by their tests.
    import dask
    from distributed import Client, LocalCluster

    if cluster:
        n = workers_of(cluster)
        # Workers are processes (the GIL is released in NumPy, but Parquet and Python glue are not).
        with (
            dask.config.set(WORKER_ENVIRONMENT),
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as lc,  # type: ignore[no-untyped-call]
            Client(lc) as client,  # type: ignore[no-untyped-call]
        ):
            yield client
    else:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client


def map_partitions(
    client: Any,
    fn: Callable[..., R],
    items: Sequence[tuple[Any, ...]],
    label: str,
    *,
    meanwhile: Callable[[], object] | None = None,
    quiet: bool = False,
) -> list[R]:
    """``fn(*item)`` for every item, here or on the cluster, with a progress bar; results in item order.

    ``meanwhile`` runs here while the cluster works (here: before the items).
    """
    results: list[R | None] = [None] * len(items)
    with progress_bar(quiet) as progress:
        task = progress.add_task(label, total=len(items))
        if client is None:
            if meanwhile is not None:
                meanwhile()
            for i, item in enumerate(items):
                results[i] = fn(*item)
                progress.advance(task)
        else:
            from distributed import as_completed

            futures = [client.submit(fn, *item, pure=False) for item in items]
            if meanwhile is not None:
                meanwhile()
            where = {f.key: i for i, f in enumerate(futures)}
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                results[where[future.key]] = future.result()
                future.release()
                progress.advance(task)
    return [r for r in results if r is not None]
