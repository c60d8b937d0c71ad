"""Running totals that restart at group boundaries, on NumPy arrays, exactly (integers only).

Yearly accumulators of a person (fund paid, catastrophic burden, outpatient caps) are running sums
over that person's claims in date order; with the claims of many persons in one array, each person's
year is a group, given by the index of its first element (``starts``, ascending, ``starts[0] == 0``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


def starts_of(*keys: npt.NDArray[np.generic]) -> I64:
    """Index of the first element of each run of equal keys (rows where any key changes)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(keys[0][1:], keys[0][:-1], out=new[1:])
    for k in keys[1:]:
        new[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(new)


def group_totals(x: I64, starts: I64) -> I64:
    """The sum of each group (``np.add.reduceat`` is several times slower on many short groups)."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    cs = np.cumsum(x)
    at_end = cs[np.append(starts[1:], len(x)) - 1]
    out: I64 = np.diff(at_end, prepend=0)
    return out


def cumsum_in_groups(x: I64, starts: I64, out: I64 | None = None) -> I64:
    """Running sum of x restarting at each group (inclusive of the current element)."""
    y = np.empty_like(x) if out is None else out
    np.copyto(y, x)
    if len(starts) > 1:
        # Take the earlier groups' total away at each group's first element: one cumsum then restarts at zero.
        before = np.cumsum(x)[starts[1:] - 1]
        y[starts[1:]] -= np.diff(before, prepend=0)
    np.cumsum(y, out=y)
    return y


def increments(g: I64, starts: I64, out: I64 | None = None) -> I64:
    """Per-element increase of a running total g that restarts at each group (the inverse of a cumsum)."""
    result = np.empty_like(g) if out is None else out
    if len(g):
        np.subtract(g[1:], g[:-1], out=result[1:])
        result[starts] = g[starts]
    return result


def capped_running(x: I64, cap: I64, starts: I64) -> I64:
    """G_i = min(G_(i-1) + x_i, cap_i) within groups (caps non-decreasing within a group), exactly.

    With R the running sum, ``G_i = R_i + min(0, min_(j<=i)(cap_j - R_j))``: a segmented running minimum,
    done with one ``np.minimum.accumulate`` after shifting each group wholly below the one before it.
    """
    if len(x) == 0:
        return x.copy()
    r = cumsum_in_groups(x, starts)
    v = cap - r
    new = np.zeros(len(x), dtype=np.int64)
    new[starts] = 1
    gid = np.cumsum(new) - 1
    span = int(v.max() - v.min()) + 1
    if span * (int(gid[-1]) + 1) >= 2**62:
        raise OverflowError("batch too large for one segmented running minimum; settle it in chunks")
    shifted = v - gid * span
    running = np.minimum.accumulate(shifted) + gid * span
    g: I64 = r + np.minimum(running, 0)
    return g


def group_rows(starts: I64, n: int, groups: I64) -> tuple[I64, I64]:
    """The rows of the chosen ``groups`` (in order) and where each chosen group starts among them."""
    ends = np.append(starts[1:], n)
    lengths = ends[groups] - starts[groups]
    sub_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts[groups] - sub_starts, lengths)
    return rows, sub_starts
