"""Own payments kept as sorted runs: percentiles and the chart's bands as NumPy gives them over all values."""

from __future__ import annotations

import numpy as np
import pytest

from yibao.sim.payments import OwnPayments
from yibao.sim.report import PERCENTILES


def _runs(seed: int, sizes: list[int]) -> tuple[OwnPayments, np.ndarray]:
    rng = np.random.default_rng(seed)
    runs = [np.sort(rng.lognormal(9, 2.5, n).astype(np.int64) * (rng.random(n) > 0.1)) for n in sizes]
    return OwnPayments(runs), np.concatenate(runs)


@pytest.mark.parametrize("sizes", [[1], [2], [3, 0, 4], [10], [999, 1, 1000], [40_000, 70_001, 5]])
def test_percentiles_mean_and_largest_are_those_of_all_values(sizes: list[int]) -> None:
    p, x = _runs(sum(sizes), sizes)
    assert len(p) == len(x) and p.total() == int(x.sum()) and p.largest() == int(x.max())
    for _, q in (*PERCENTILES, ("", 0), ("", 1), ("", 33.3), ("", 100)):
        assert p.percentile(q) == int(np.quantile(x, q / 100, method="inverted_cdf")), (sizes, q)
    for k in (0, len(x) // 2, len(x) - 1):
        assert p.value_at(k) == int(np.sort(x)[k])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_histogram_is_numpys(seed: int) -> None:
    p, x = _runs(seed, [20_000, 30_000, 1])
    p.runs.append(np.full(100, 37, dtype=np.int64))  # below 1 yuan, the first band's edge: left out as NumPy does
    x = np.concatenate([x, p.runs[-1]])
    counts, edges = p.histogram(50)
    paying = x[x > 0]
    assert edges[0] == 100 and edges[-1] == pytest.approx(paying.max() + 1)
    expected, _ = np.histogram(paying, bins=edges)
    assert len(counts) == 50 and np.array_equal(counts, expected)


def test_nobody_paying_draws_no_bands() -> None:
    counts, edges = OwnPayments([np.zeros(5, dtype=np.int64)]).histogram(50)
    assert len(counts) == 0 and len(edges) == 0
