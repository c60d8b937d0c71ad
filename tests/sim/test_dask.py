"""The same year settled in this process, by a process per core, and on a Dask cluster: every figure and
every file equal, to the fen."""

from __future__ import annotations

import json
from pathlib import Path

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
        for table in sorted((here / "tables").glob("*.csv")):
            assert table.read_bytes() == (there / "tables" / table.name).read_bytes(), (name, table.name)
        files = sorted(p.name for p in (here / "persons").glob("*.parquet"))
        assert len(files) == 3 and files == sorted(p.name for p in (there / "persons").glob("*.parquet"))
        for file in files:
            assert (here / "persons" / file).read_bytes() == (there / "persons" / file).read_bytes(), (name, file)
