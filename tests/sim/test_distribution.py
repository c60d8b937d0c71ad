"""Own payments per person-year read off the sorted payments: the same as NumPy's passes over the data."""

from __future__ import annotations

import numpy as np
import pytest

from yibao.sim.charts import own_payments_histogram
from yibao.sim.report import PERCENTILES, percentile


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 999, 1000, 1001, 123_457])
def test_percentiles_are_numpys_inverted_cdf(n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.sort(rng.integers(0, 10**7, n))
    for _, q in (*PERCENTILES, ("", 0), ("", 1), ("", 33.3), ("", 100)):
        assert percentile(x, q) == int(np.quantile(x, q / 100, method="inverted_cdf")), (n, q)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_histogram_is_numpys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(9, 2.5, 50_000).astype(np.int64)
    x[:5000] = 0
    x[5000:5100] = 37  # below the first band (1 yuan): left out, as np.histogram leaves it out
    x = np.sort(x)
    counts, edges = own_payments_histogram(x)
    paying = x[x > 0]
    expected, _ = np.histogram(paying, bins=edges)
    assert len(counts) == 50 and np.array_equal(counts, expected)
    # The largest payment sits on the last edge's side that np.histogram counts (closed above).
    assert counts.sum() == np.count_nonzero(paying >= edges[0])


def test_nobody_paying_draws_no_bands() -> None:
    counts, edges = own_payments_histogram(np.zeros(5, dtype=np.int64))
    assert len(counts) == 0 and len(edges) == 0
