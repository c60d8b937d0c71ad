"""``yibao sim`` from the command line: the fund manager's what-if in three commands, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import run
from tests.sim.test_compare import special_80


def test_population_claims_compare_and_run(tmp_path: Path) -> None:
    pop, claims = tmp_path / "pop", tmp_path / "claims"
    code, out = run(
        "sim", "population", str(pop), "--persons", "800", "--seed", "3", "--partition-persons", "400", "--quiet"
    )
    assert code == 0, out
    code, out = run("sim", "claims", str(pop), str(claims), "--year", "2016", "--seed", "3", "--quiet")
    assert code == 0, out
    manifest = json.loads((claims / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["benefit_year"] == {"start": "2015-10-01", "end": "2016-09-30"} and manifest["claims"] > 0
    code, out = run(
        "sim", "compare", str(claims), "--overlay", str(special_80(tmp_path)), "--out", str(tmp_path / "cmp"), "--quiet"
    )
    assert code == 0, out
    assert (tmp_path / "cmp" / "compare.html").exists()
    code, out = run("sim", "run", str(claims), "--out", str(tmp_path / "rep"), "--quiet")
    assert code == 0, out
    report = json.loads((tmp_path / "rep" / "report.json").read_text(encoding="utf-8"))
    assert report["benefit_year"]["start"] == "2015-10-01" and report["data"]["claims"] == manifest["claims"]


def test_errors_name_what_is_wrong(tmp_path: Path) -> None:
    code, _ = run("sim", "run", str(tmp_path), "--out", str(tmp_path / "rep"))
    assert code == 2  # not a claims dataset
    code, _ = run("sim", "population", str(tmp_path / "p"), "--persons", "0")
    assert code == 2
    code, _ = run("sim", "population", str(tmp_path / "p"), "--persons", "10", "--cluster", "two")
    assert code == 2
    code, _ = run(
        "sim", "population", str(tmp_path / "p"), "--persons", "10", "--cluster", "local:1", "--scheduler", "x:1"
    )
    assert code == 2
    assert not (tmp_path / "p").exists()


def test_processes_are_at_least_one_and_not_with_dask(province: tuple[Path, Path], tmp_path: Path) -> None:
    claims = str(province[1])
    code, _ = run("sim", "run", claims, "--out", str(tmp_path / "a"), "--processes", "0", "--quiet")
    assert code == 2 and not (tmp_path / "a").exists()
    code, _ = run("sim", "run", claims, "--out", str(tmp_path / "b"), "--processes", "1", "--cluster", "local:2")
    assert code == 2 and not (tmp_path / "b").exists()
    code, out = run("sim", "run", claims, "--out", str(tmp_path / "c"), "--processes", "1", "--quiet")
    assert code == 0, out
    assert json.loads((tmp_path / "c" / "timing.json").read_text(encoding="utf-8"))["processes"] == 1
