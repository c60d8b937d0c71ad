"""The same year on a Dask cluster of two worker processes: every figure and every file equal, to the fen."""

from __future__ import annotations

from pathlib import Path

from yibao.sim.service import Where, run_year


def test_local_and_dask_give_the_same_report(province: tuple[Path, Path], tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    run_year(province[1], here, reform=None, where=Where(), quiet=True)
    run_year(province[1], there, reform=None, where=Where(cluster="local:2"), quiet=True)
    assert (here / "report.json").read_bytes() == (there / "report.json").read_bytes()
    for table in sorted((here / "tables").glob("*.csv")):
        assert table.read_bytes() == (there / "tables" / table.name).read_bytes(), table.name
    files = sorted(p.name for p in (here / "persons").glob("*.parquet"))
    assert len(files) == 3 and files == sorted(p.name for p in (there / "persons").glob("*.parquet"))
    for name in files:
        assert (here / "persons" / name).read_bytes() == (there / "persons" / name).read_bytes(), name
