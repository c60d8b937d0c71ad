"""Benefit engine benchmarks: scalar latency, batch throughput, peak memory, and a NumPy floor.

Run: ``.venv/bin/python bench/engine.py [--claims N] [--repeat R]``. Writes bench/results/engine.json.
Figures are medians of repeated runs measured in one process; the machine is shared, so compare the
ratios of figures taken in the same run rather than absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from yibao.engine import decide, parse_claim
from yibao.engine.batch import settle_batch
from yibao.engine.synthetic import generate_claims
from yibao.policy.loader import get_pack

CLAIM = {
    "scheme": "resident",
    "benefit": "inpatient",
    "date": "2016-03-01",
    "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
    "hospital_level": 3,
    "total": "48000.00",
    "in_scope": "45000.00",
    "class_b": "3000.00",
    "ytd": {"fund_paid": "20000.00", "catastrophic_base": "15000.00"},
}


def _per_call_us(fn: Any, number: int, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(samples)


def scalar(repeat: int) -> dict[str, float]:
    pack = get_pack()
    claim = parse_claim(CLAIM)
    decide(claim, pack)
    return {
        "decide_us_median": _per_call_us(lambda: decide(claim, pack), 5000, repeat),
        "decide_and_render_json_us_median": _per_call_us(lambda: decide(claim, pack).to_dict(), 1000, repeat),
        "parse_and_decide_us_median": _per_call_us(lambda: decide(parse_claim(CLAIM), pack), 2000, repeat),
    }


def baseline_one_scale(amount: np.ndarray) -> np.ndarray:
    """The floor: one marginal scale over the same amounts, no accumulators, no policy lookups."""
    thresholds = (2_000_000, 7_000_000, 12_000_000, 32_000_000)
    rates = (5, 6, 7, 8)
    total = np.zeros_like(amount)
    for i, t in enumerate(thresholds):
        width = thresholds[i + 1] - t if i + 1 < len(thresholds) else None
        total += np.clip(amount - t, 0, width) * rates[i]
    out: np.ndarray = (2 * total + 10) // 20
    return out


def _timed(fn: Any) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this thread) of one ``fn()``.

    The machine is shared: wall-clock time includes the time other processes hold the cores, CPU time
    does not. Both are kept; ratios of CPU times are the steadier comparison on a busy machine.
    """
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - t0, time.thread_time() - c0


def batch(n: int, repeat: int) -> dict[str, float]:
    pack = get_pack()
    claims = generate_claims(n)
    input_bytes = sum(v.nbytes for v in claims.values())
    settle_batch({k: v[:1000] for k, v in claims.items()}, pack)  # warm caches
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = settle_batch(claims, pack)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    output_bytes = sum(v.nbytes for v in result.values())
    del result
    # Interleaved, so that both see the same machine: batch, floor, batch, floor...
    runs = [
        (_timed(lambda: settle_batch(claims, pack)), _timed(lambda: baseline_one_scale(claims["in_scope"])))
        for _ in range(repeat)
    ]
    t_batch = statistics.median(r[0][0] for r in runs)
    t_base = statistics.median(r[1][0] for r in runs)
    c_batch = statistics.median(r[0][1] for r in runs)
    c_base = statistics.median(r[1][1] for r in runs)
    return {
        "claims": n,
        "batch_seconds_median": t_batch,
        "batch_claims_per_second": n / t_batch,
        "baseline_one_scale_seconds_median": t_base,
        "baseline_claims_per_second": n / t_base,
        "batch_over_baseline_time_ratio": t_batch / t_base,
        "batch_cpu_seconds_median": c_batch,
        "batch_claims_per_cpu_second": n / c_batch,
        "baseline_cpu_seconds_median": c_base,
        "batch_over_baseline_cpu_ratio": c_batch / c_base,
        "load_average_1min": os.getloadavg()[0],
        "input_bytes_per_claim": input_bytes / n,
        "peak_bytes_per_claim_above_input": peak / n,
        "output_bytes_per_claim": output_bytes / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "engine.json")
    args = parser.parse_args()
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
        "scalar": scalar(max(args.repeat, 5)),
        "batch": batch(args.claims, args.repeat),
        "targets": {
            "scalar_us": 25,
            "batch_claims_per_second": 15_000_000,
            "batch_over_baseline_time_ratio": 4,
            "peak_bytes_per_claim_above_input": 150,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
