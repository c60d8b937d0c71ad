"""Marginal rate scales evaluated exactly.

A scale pays ``rate_i`` on the part of an amount that lies between ``threshold_i`` and the next
threshold. Rates are exact fractions (50%, 65%), so the scale's value is computed in integer units
of 1/D fen, where D is the common denominator of the rates: nothing is rounded inside the scale.
Callers round only the difference they pay (policy.md: "only the stay's difference is rounded").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import lcm

from yibao.core.money import div_half_up
from yibao.policy.model import Bracket


@dataclass(frozen=True, slots=True)
class CompiledScale:
    """A scale ready for integer evaluation: thresholds in fen, rates as numerators over ``denominator``."""

    offset: int  # amounts below ``offset`` (fen) are outside the scale
    thresholds: tuple[int, ...]
    numerators: tuple[int, ...]
    denominator: int

    def scaled(self, amount: int) -> int:
        """The scale's value at ``amount`` fen, in units of 1/denominator fen (exact)."""
        x = amount - self.offset
        total = 0
        ts = self.thresholds
        for i, t in enumerate(ts):
            if x <= t:
                break
            upper = ts[i + 1] if i + 1 < len(ts) else x
            total += (min(x, upper) - t) * self.numerators[i]
        return total

    def pay(self, before: int, after: int) -> int:
        """What moving the cumulative amount from ``before`` to ``after`` pays, rounded half up to the fen."""
        return div_half_up(self.scaled(after) - self.scaled(before), self.denominator)


_BY_ID: dict[tuple[int, int], tuple[tuple[Bracket, ...], CompiledScale]] = {}


def compile_scale(brackets: tuple[Bracket, ...], offset: int = 0) -> CompiledScale:
    """Compile a scale; ``offset`` shifts it (e.g. catastrophic bands start above the 20,000 threshold)."""
    # Pack values are immutable and live as long as their pack: looking them up by identity first
    # spares hashing a tuple of Fractions on every claim.
    hit = _BY_ID.get((id(brackets), offset))
    if hit is not None and hit[0] is brackets:
        return hit[1]
    compiled = _compile(brackets, offset)
    if len(_BY_ID) > 1024:
        _BY_ID.clear()
    _BY_ID[(id(brackets), offset)] = (brackets, compiled)
    return compiled


@lru_cache(maxsize=256)
def _compile(brackets: tuple[Bracket, ...], offset: int) -> CompiledScale:
    den = 1
    for b in brackets:
        den = lcm(den, Fraction(b.rate).denominator)
    return CompiledScale(
        offset=offset,
        thresholds=tuple(b.threshold for b in brackets),
        numerators=tuple(int(b.rate * den) for b in brackets),
        denominator=den,
    )
