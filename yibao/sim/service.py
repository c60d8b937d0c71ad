"""The fund analysis use cases: make a province, settle its year and report, compare policies."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from yibao.core.errors import ValidationFailed
from yibao.policy.loader import get_pack
from yibao.sim import charts, html
from yibao.sim.cluster import open_client
from yibao.sim.compare import build_comparison
from yibao.sim.frame import benefit_year
from yibao.sim.population import disease_codes
from yibao.sim.province import make_claims, make_population
from yibao.sim.report import build_report, write_tables
from yibao.sim.run import Outcome, settle_claims
from yibao.sim.scenario import Scenario, scenario
from yibao.sim.shape import SHAPE_FILE, Shape, ShapeError, shape_at
from yibao.sim.store import MANIFEST, prepare_folder


@dataclass(frozen=True, slots=True)
class Where:
    """Where partitions run: worker processes here, a ``local:N`` Dask cluster, or a running scheduler's address.

    ``processes``: how many processes settle partitions on this machine without Dask (default: one per
    usable core; 1 settles in this process).
    """

    cluster: str | None = None
    scheduler: str | None = None
    processes: int | None = None


def make_province_population(
    out: Path,
    *,
    persons: int,
    seed: int,
    as_of: date,
    partition_persons: int,
    shape_file: Path | None,
    where: Where,
    quiet: bool = False,
) -> dict[str, Any]:
    """``yibao sim population``: the insured persons of the synthetic province."""
    shape, sha = shape_at(shape_file)
    diseases = disease_codes(get_pack(), as_of, shape)
    with open_client(where.cluster, where.scheduler) as client:
        return make_population(
            out,
            shape,
            sha,
            diseases,
            persons=persons,
            seed=seed,
            as_of=as_of,
            partition_persons=partition_persons,
            shape_file=str((shape_file or SHAPE_FILE).resolve()),
            client=client,
            quiet=quiet,
        )


def make_province_claims(
    population: Path, out: Path, *, year: int, seed: int, shape_file: Path | None, where: Where, quiet: bool = False
) -> dict[str, Any]:
    """``yibao sim claims``: a benefit year of resident claims for a population."""
    pack = get_pack()
    frame = benefit_year(year, pack)
    shape, sha = shape_at(shape_file)
    diseases = disease_codes(pack, frame.start, shape)
    with open_client(where.cluster, where.scheduler) as client:
        return make_claims(
            population,
            out,
            shape,
            sha,
            diseases,
            frame,
            seed=seed,
            shape_file=str((shape_file or SHAPE_FILE).resolve()),
            client=client,
            quiet=quiet,
        )


def _check_where(where: Where) -> None:
    """``processes`` is for runs on this machine without Dask, and at least one."""
    if where.processes is None:
        return
    if where.processes < 1:
        raise ValidationFailed("processes", "进程数至少为1", "--processes must be at least 1")
    if where.cluster or where.scheduler:
        raise ValidationFailed(
            "processes",
            "--processes 只用于本机运行，不与 --cluster/--scheduler 同用",
            "--processes is for runs on this machine: not with --cluster or --scheduler",
        )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _prepare_report(out: Path) -> None:
    if (out / "report.json").exists() or (out / "compare.json").exists() or (out / MANIFEST).exists():
        raise ValidationFailed(
            "out", f"{out} 已有报告，请换一个空文件夹", f"{out} already holds a report; choose an empty folder"
        )
    prepare_folder(out)


def _shape_of(manifest: dict[str, Any]) -> Shape | None:
    """The shape file the claims were made with, if it is still there unchanged (its sources go in the report)."""
    file = Path(manifest.get("shape_file") or SHAPE_FILE)
    try:
        shape, sha = shape_at(file)
    except ShapeError:
        return None
    return shape if sha == manifest.get("shape_sha256") else None


def _write_report(out: Path, outcome: Outcome, i: int, *, charts_too: bool = True) -> tuple[dict[str, Any], float]:
    """report.json, tables/*.csv, charts/*.png and report.html of scenario ``i`` in ``out``; the charts' seconds."""
    report = build_report(outcome, i, _shape_of(outcome.manifest))
    _write_json(out / "report.json", report)
    write_tables(report, out / "tables")
    t0 = time.perf_counter()
    if charts_too:
        svgs = charts.render(charts.report_charts(report, outcome.personal[i]), out / "charts")
        (out / "report.html").write_text(html.report_page(report, svgs), encoding="utf-8")
    return report, time.perf_counter() - t0


def _timing(
    out: Path, outcome: Outcome, started: float, cluster_seconds: float, charts_seconds: float, where: Where
) -> dict[str, Any]:
    """How long each phase took, kept beside the report (timing.json), never inside it."""
    total = time.perf_counter() - started
    timing = {
        "claims": outcome.rows,
        "partitions": len(outcome.manifest["partitions"]),
        "where": where.cluster or where.scheduler or "local",
        "settle_seconds": round(outcome.seconds, 3),  # read, settle, sum, write person-years: all partitions
        "cluster_seconds": round(cluster_seconds, 3),  # starting and stopping Dask (or connecting)
        "report_seconds": round(total - outcome.seconds - cluster_seconds - charts_seconds, 3),
        "charts_seconds": round(charts_seconds, 3),  # PNG charts and the HTML page
        "total_seconds": round(total, 3),
        "worker_seconds": round(outcome.worker_seconds, 3),
        "worker_cpu_seconds": round(outcome.worker_cpu_seconds, 3),  # below worker_seconds: waiting for a core
        "processes": outcome.processes,  # settling on this machine without Dask (0 with Dask)
    }
    _write_json(out / "timing.json", timing)
    return timing


def run_year(claims: Path, out: Path, *, reform: Path | None, where: Where, quiet: bool = False) -> dict[str, Any]:
    """``yibao sim run``: settle the year under one scenario and write its report."""
    started = time.perf_counter()
    _check_where(where)
    sc = scenario(reform)
    _prepare_report(out)
    t0 = time.perf_counter()
    with open_client(where.cluster, where.scheduler) as client:
        outcome = settle_claims(
            claims,
            [sc],
            [out / "persons"],
            client=client,
            processes=where.processes,
            meanwhile=charts.prepare,  # matplotlib imported while the workers settle
            quiet=quiet,
        )
    cluster_seconds = time.perf_counter() - t0 - outcome.seconds
    report, charts_seconds = _write_report(out, outcome, 0)
    report["timing"] = _timing(out, outcome, started, cluster_seconds, charts_seconds, where)
    return report


def compare_years(
    claims: Path, out: Path, *, overlays: list[Path], where: Where, quiet: bool = False
) -> dict[str, Any]:
    """``yibao sim compare``: the same claims under each scenario, against the first."""
    started = time.perf_counter()
    _check_where(where)
    if not overlays:
        raise ValidationFailed("overlay", "至少给一个改革方案（--overlay）", "give at least one --overlay")
    scenarios: list[Scenario] = [scenario(p) for p in overlays]
    if len(scenarios) == 1:
        scenarios.insert(0, scenario(None))  # one reform: against the current policy
    files = [Path(s.reform).resolve() if s.reform else None for s in scenarios]
    if len(set(files)) != len(files):
        raise ValidationFailed("overlay", "同一方案文件给了两次", "the same scenario file is given twice")
    _prepare_report(out)
    folders = [
        out / "scenarios" / f"{i}-{_slug(Path(s.reform).stem if s.reform else 'current')}"
        for i, s in enumerate(scenarios)
    ]
    t1 = time.perf_counter()
    with open_client(where.cluster, where.scheduler) as client:
        outcome = settle_claims(
            claims,
            scenarios,
            [f / "persons" for f in folders],
            client=client,
            processes=where.processes,
            meanwhile=charts.prepare,
            quiet=quiet,
        )
    cluster_seconds = time.perf_counter() - t1 - outcome.seconds
    reports = [_write_report(f, outcome, i, charts_too=False)[0] for i, f in enumerate(folders)]
    comparison = build_comparison(reports, outcome.diffs)
    _write_json(out / "compare.json", comparison)
    for j, comp in enumerate(comparison["comparisons"]):
        suffix = "" if len(comparison["comparisons"]) == 1 else f"_{j + 1}"
        write_tables(
            {f"{k}": comp[k] for k in ("lines", "gainers_by_prefecture", "gainers_by_group", "gainers_by_age_band")},
            out / f"tables{suffix}",
        )
    t0 = time.perf_counter()
    svgs = charts.render(charts.comparison_charts(comparison), out / "charts")
    (out / "compare.html").write_text(html.comparison_page(comparison, svgs), encoding="utf-8")
    comparison["timing"] = _timing(out, outcome, started, cluster_seconds, time.perf_counter() - t0, where)
    return comparison


def _slug(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in name).strip("_") or "current"
