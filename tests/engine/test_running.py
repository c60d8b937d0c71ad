"""Running totals restarting per group, against a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.engine.running import capped_running, cumsum_in_groups, group_rows, group_totals, increments, starts_of


@st.composite
def grouped(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, a non-decreasing cap per element within each group, and group keys."""
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=12))
    keys = np.repeat(np.arange(len(sizes)), sizes)
    x = np.array(draw(st.lists(st.integers(0, 500), min_size=len(keys), max_size=len(keys))), dtype=np.int64)
    steps = np.array(draw(st.lists(st.integers(0, 300), min_size=len(keys), max_size=len(keys))), dtype=np.int64)
    starts = starts_of(keys)
    cap = cumsum_in_groups(steps, starts) + draw(st.integers(0, 800))
    return x, cap, keys


@settings(max_examples=300, deadline=None)
@given(grouped())
def test_group_primitives_equal_a_loop(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, cap, keys = data
    starts = starts_of(keys)
    running, capped, totals = [], [], {}
    r = g = 0
    for i, (v, c) in enumerate(zip(x.tolist(), cap.tolist(), strict=True)):
        if i == 0 or keys[i] != keys[i - 1]:
            r = g = 0
        r += v
        g = min(g + v, c)
        running.append(r)
        capped.append(g)
        totals[int(keys[i])] = r
    assert cumsum_in_groups(x, starts).tolist() == running
    got = capped_running(x, cap, starts)
    assert got.tolist() == capped
    inc = increments(got, starts)
    assert (inc >= 0).all() and cumsum_in_groups(inc, starts).tolist() == capped
    assert group_totals(x, starts).tolist() == [totals[k] for k in sorted(totals)]
    chosen = np.arange(0, len(starts), 2)
    rows, sub = group_rows(starts, len(x), chosen)
    assert rows.tolist() == [i for i in range(len(x)) if keys[i] in set(keys[starts[chosen]].tolist())]
    assert sub.tolist() == [i for i in range(len(rows)) if i == 0 or keys[rows[i]] != keys[rows[i - 1]]]
