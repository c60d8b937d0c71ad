"""Fund analysis end to end: a synthetic province made, its year settled and reported, here and on Dask.

Run: ``.venv/bin/python bench/sim.py [--persons N] [--partition-persons P] [--workers 2]``. Each phase runs as
its own ``yibao sim`` command, as a fund analyst would run it, while a sampler adds up the resident memory
of the command and every process it starts (Dask's workers included). Writes bench/results/sim.json:
claims per second of wall-clock and of CPU time, and peak resident memory, for generating (population and
claims), and for settling and reporting: on this machine (a process per core, the default), in one
process (``--processes 1``), and on a local Dask cluster; and whether the three reports are the same to
the fen. Settling and reporting runs ``--repeat`` rounds (the three ways in turn, so that they meet the same
neighbours); each way's figures are those of its round of median wall-clock time, and every round's wall
and CPU seconds are listed beside them.

The machine is shared: CPU seconds are the steadier figure. Each phase also records why its wall-clock
time may exceed its CPU time divided by the cores: the seconds its processes were ready to run but waited
for a core (the kernel's run-queue wait, /proc/PID/task/TID/schedstat), and the CPU seconds other
programs used on the machine meanwhile (/proc/stat's busy time less the phase's own).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

YIBAO = str(Path(sys.executable).with_name("yibao"))


def _waited_ns(pid: int) -> dict[int, int]:
    """Nanoseconds each thread of ``pid`` has waited on a run queue (Linux; nothing elsewhere)."""
    out: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                out[int(tid)] = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
    return out


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (every program, every core)."""
    t = psutil.cpu_times()
    return float(sum(t)) - float(t.idle) - float(getattr(t, "iowait", 0.0))


class Sampler:
    """Peak resident memory of a process tree, and its threads' run-queue waits, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_total = 0
        self.peak_process = 0
        self.waited: dict[tuple[int, int], int] = {}  # (pid, thread id) -> last seen run-queue wait, ns
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                rss = []
                for p in procs:
                    with contextlib.suppress(psutil.Error):  # a process may end between listing and reading
                        rss.append(p.memory_info().rss)
                    for tid, ns in _waited_ns(p.pid).items():
                        self.waited[(p.pid, tid)] = ns
                self.peak_total = max(self.peak_total, sum(rss))
                self.peak_process = max(self.peak_process, max(rss, default=0))
            except psutil.Error:
                pass
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def phase(*args: str) -> dict[str, float]:
    """Run ``yibao ARGS``: wall and CPU seconds (the command and its children), peak memory, time spent waiting."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = _busy_seconds()
    t0 = time.perf_counter()
    proc = subprocess.Popen([YIBAO, *args, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"yibao {' '.join(args)} failed:\n{out}\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_bytes_all_processes": sampler.peak_total,
        "peak_rss_bytes_one_process": sampler.peak_process,
        # Ready to run, but every core was taken (the last 50 ms of each thread are not sampled).
        "run_queue_wait_seconds": sum(sampler.waited.values()) / 1e9,
        "other_programs_cpu_seconds": max(0.0, _busy_seconds() - busy0 - cpu),
    }


def per_claim(figures: dict[str, float], claims: int) -> dict[str, float]:
    """Rates of a phase over the year's claims."""
    return {
        **figures,
        "claims_per_second": claims / figures["wall_seconds"],
        "claims_per_cpu_second": claims / figures["cpu_seconds"],
    }


def add(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """Two commands run one after the other as one phase."""
    peaks = ("peak_rss_bytes_all_processes", "peak_rss_bytes_one_process")
    return {k: max(a[k], b[k]) if k in peaks else a[k] + b[k] for k in a}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=27_500_000, help="about 1.8 claims a person: 50 million claims")
    parser.add_argument("--partition-persons", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sim.json")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of settling and reporting (odd: a median)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="yibao-sim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = f"local:{args.workers}"
    load_before = os.getloadavg()[0]
    try:
        common = ["--seed", str(args.seed)]
        pop = phase(
            "sim", "population", str(work / "pop"), "--persons", str(args.persons),
            "--partition-persons", str(args.partition_persons), *common,
        )  # fmt: skip
        claims = phase("sim", "claims", str(work / "pop"), str(work / "claims"), "--year", "2023", *common)
        manifest = json.loads((work / "claims" / "_manifest.json").read_text(encoding="utf-8"))
        n = int(manifest["claims"])
        pop_d = phase(
            "sim", "population", str(work / "pop_d"), "--persons", str(args.persons),
            "--partition-persons", str(args.partition_persons), "--cluster", cluster, *common,
        )  # fmt: skip
        claims_d = phase(
            "sim",
            "claims",
            str(work / "pop_d"),
            str(work / "claims_d"),
            "--year",
            "2023",
            "--cluster",
            cluster,
            *common,
        )
        same_data = all(
            (work / "claims" / p["file"]).read_bytes() == (work / "claims_d" / p["file"]).read_bytes()
            for p in manifest["partitions"]
        )
        shutil.rmtree(work / "claims_d")
        ways = {"local": [], "one_process": ["--processes", "1"], "dask": ["--cluster", cluster]}
        rounds: dict[str, list[tuple[dict[str, float], dict[str, Any]]]] = {way: [] for way in ways}
        same = {way: True for way in ways}
        reference: bytes | None = None
        for r in range(args.repeat):
            for way, extra in ways.items():
                out = work / f"report_{way}_{r}"
                measured = phase("sim", "run", str(work / "claims"), "--out", str(out), *extra)
                timing = json.loads((out / "timing.json").read_text(encoding="utf-8"))
                rounds[way].append((measured, timing))
                report = (out / "report.json").read_bytes()
                reference = reference or report
                same[way] = same[way] and report == reference
                if r:  # the first round's reports stay for a look; the others' person-years take room
                    shutil.rmtree(out)
        medians = {way: sorted(rs, key=lambda ft: ft[0]["wall_seconds"])[len(rs) // 2] for way, rs in rounds.items()}
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    figures: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_bytes": psutil.virtual_memory().total,
            "load_average_1min_before": load_before,
            "load_average_1min_after": os.getloadavg()[0],
        },
        "size": {
            "persons": args.persons,
            "claims": n,
            "partitions": len(manifest["partitions"]),
            "partition_persons": args.partition_persons,
            "dask_workers": args.workers,
        },
        "generate_local": per_claim(add(pop, claims), n),
        "generate_dask": per_claim(add(pop_d, claims_d), n),
        **{
            f"settle_and_report_{way}": {
                **per_claim(medians[way][0], n),
                "rounds_wall_seconds": [f["wall_seconds"] for f, _ in rs],
                "rounds_cpu_seconds": [f["cpu_seconds"] for f, _ in rs],
            }
            for way, rs in rounds.items()
        },
        "phases_inside_the_run": {way: t for way, (_, t) in medians.items()},
        "dask_made_the_same_claims": same_data,
        "dask_report_equals_local": same["dask"] and same["local"],
        "one_process_report_equals_local": same["one_process"] and same["local"],
        "targets": {"settle_and_report_claims_per_second": 5_000_000, "peak_rss_bytes": 4 * 2**30},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
