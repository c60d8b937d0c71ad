"""Every benchmark runs, at a tiny size, in the test suite: a change that breaks one fails the build.

These are smoke runs, not measurements: they check that each script completes and writes figures of
the expected shape (and that the ledger verifies after the PostgreSQL ones).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _run(script: str, out: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    figures: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def test_engine_benchmark(tmp_path: Path) -> None:
    figures = _run("engine.py", tmp_path / "engine.json", "--claims", "20000", "--repeat", "1")
    assert set(figures) >= {"scalar", "batch"}


@pytest.mark.pg
def test_ledger_benchmark(tmp_path: Path, pg_url: str) -> None:
    figures = _run(
        "ledger.py", tmp_path / "ledger.json", "--seconds", "1", "--repeat", "1", "--clients", "2", "--members", "50"
    )
    assert figures["ledger_verified"] is True
    assert float(figures["yibao_spread_payments_per_second"]) > 0  # type: ignore[arg-type]


@pytest.mark.pg
def test_http_benchmark(tmp_path: Path, pg_url: str) -> None:
    figures = _run(
        "http.py", tmp_path / "http.json", "--seconds", "1", "--repeat", "1", "--clients", "2", "--payers", "20"
    )
    assert figures["ledger_verified"] is True
    assert float(figures["payments_per_second"]) > 0 and float(figures["reads_per_second"]) > 0  # type: ignore[arg-type]


@pytest.mark.pg
def test_gateway_benchmark(tmp_path: Path, pg_url: str) -> None:
    figures = _run(
        "gateway.py", tmp_path / "gateway.json", "--seconds", "1", "--repeat", "1", "--clients", "2", "--persons", "20"
    )
    assert float(figures["person_info_1101_per_second"]) > 0  # type: ignore[arg-type]
    assert float(figures["healthz_per_second"]) > 0  # type: ignore[arg-type]
    assert set(figures["runs"]["1101"][0]["answers"]) == {"ok"}  # type: ignore[index]


def test_settlement_benchmark(tmp_path: Path, pg_url: str) -> None:
    figures = _run(
        "settlement.py",
        tmp_path / "settlement.json",
        *("--seconds", "1", "--repeat", "1", "--clients", "2", "--persons", "30", "--stays", "10", "--alone", "3"),
    )
    assert figures["ledger_verified"] is True
    runs: dict[str, list[dict[str, object]]] = figures["runs"]  # type: ignore[assignment]
    assert runs["settle"][0]["refused"] == 0 and runs["flow"][0]["refused"] == 0
    assert float(figures["settlements_2304_per_second"]) > 0  # type: ignore[arg-type]
    assert float(figures["inpatient_flows_per_second"]) > 0  # type: ignore[arg-type]
    assert float(figures["in_process_pay_once_per_second"]) > 0  # type: ignore[arg-type]
    assert "inpatient_settle" in (tmp_path / "settlement_profile.txt").read_text(encoding="utf-8")
    assert int(figures["statements_per_2304"]) > 0  # type: ignore[call-overload]
    alone: dict[str, dict[str, float]] = figures["in_process_2304"]  # type: ignore[assignment]
    assert set(alone) == {"employee", "resident"} and all(x["statements"] > 0 for x in alone.values())


def test_sim_benchmark(tmp_path: Path) -> None:
    figures = _run(
        "sim.py", tmp_path / "sim.json", "--persons", "2000", "--partition-persons", "1000", "--workers", "2"
    )
    assert figures["dask_report_equals_local"] is True and figures["dask_made_the_same_claims"] is True
    size = figures["size"]
    assert isinstance(size, dict) and size["claims"] > 0 and size["partitions"] == 2
