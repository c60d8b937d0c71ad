"""The same year settled in this process, by a process per core, and on a Dask cluster: every figure and
every file equal, to the fen."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from yibao.sim.processes import can_fork
from yibao.sim.service import Where, run_year


def test_one_process_processes_and_dask_give_the_same_report(province: tuple[Path, Path], tmp_path: Path) -> None:
    here = tmp_path / "here"
    run_year(province[1], here, reform=None, where=Where(processes=1), quiet=True)
    assert json.loads((here / "timing.json").read_text(encoding="utf-8"))["processes"] == 1
    for name, where in (("pool", Where(processes=2)), ("dask", Where(cluster="local:2"))):
        there = tmp_path / name
        run_year(province[1], there, reform=None, where=where, quiet=True)
        timing = json.loads((there / "timing.json").read_text(encoding="utf-8"))
        assert timing["processes"] == (2 if name == "pool" else 0) and timing["worker_cpu_seconds"] > 0
        assert (here / "report.json").read_bytes() == (there / "report.json").read_bytes(), name
        assert (here / "report.html").read_bytes() == (there / "report.html").read_bytes(), name
        for table in sorted((here / "tables").glob("*.csv")):
            assert table.read_bytes() == (there / "tables" / table.name).read_bytes(), (name, table.name)
        files = sorted(p.name for p in (here / "persons").glob("*.parquet"))
        assert len(files) == 3 and files == sorted(p.name for p in (there / "persons").glob("*.parquet"))
        for file in files:
            assert (here / "persons" / file).read_bytes() == (there / "persons" / file).read_bytes(), (name, file)


def test_with_another_thread_running_workers_start_from_a_fork_server(
    province: tuple[Path, Path], tmp_path: Path
) -> None:
    # Forking a process whose other threads may hold locks is not safe: workers then come from a fork
    # server, and the charts are drawn here alone. The report is the same.
    here, there = tmp_path / "here", tmp_path / "there"
    run_year(province[1], here, reform=None, where=Where(processes=2), quiet=True)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        run_year(province[1], there, reform=None, where=Where(processes=2), quiet=True)
    finally:
        stop.set()
        other.join()
    assert (here / "report.json").read_bytes() == (there / "report.json").read_bytes()
    assert (here / "report.html").read_bytes() == (there / "report.html").read_bytes()
    for png in sorted((here / "charts").glob("*.png")):
        assert png.read_bytes() == (there / "charts" / png.name).read_bytes(), png.name
