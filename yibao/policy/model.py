"""The loaded policy pack: a typed, frozen tree of dated, cited parameters.

A parameter has a history of dated values; each value carries its citation (a seed file and the
exact sentence it comes from), or is marked assumed with a note, or comes from a deployment
overlay. ``Pack.at(day)`` gives a ``PolicyView`` of every value in force that day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Any

from yibao.core.errors import ValidationFailed


class Unit(StrEnum):
    """What a parameter's numbers measure."""

    CNY = "CNY"  # stored as integer fen
    RATIO = "ratio"  # stored as an exact Fraction
    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"
    COUNT = "count"
    DATE = "date"
    LIST = "list"  # a list of codes (with Chinese names)


class Kind(StrEnum):
    """Shape of a parameter's value."""

    SCALAR = "scalar"
    TABLE = "table"
    SCALE = "scale"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a value comes from."""

    source: str | None
    quote: str | None
    url: str | None = None
    assumed: bool = False
    overlay: str | None = None  # name of the deployment overlay that set it
    example: bool = False  # an overlay's example value, not policy
    note: str | None = None
    file: str = ""
    line: int = 0

    @property
    def is_assumption(self) -> bool:
        """True when the value is not backed by a cited sentence (assumed or overlay)."""
        return self.assumed or self.overlay is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        d: dict[str, Any] = {"source": self.source, "quote": self.quote}
        if self.url:
            d["url"] = self.url
        if self.assumed:
            d["assumed"] = True
        if self.overlay:
            d["overlay"] = self.overlay
        if self.example:
            d["example"] = True
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True, slots=True)
class Bracket:
    """One band of a marginal rate scale: ``rate`` applies to the part above ``threshold``."""

    threshold: int  # in the parameter's unit (fen for CNY)
    rate: Fraction
    citation: Citation | None = None  # set when one band has its own source (e.g. an assumed band)


@dataclass(frozen=True, slots=True)
class ListItem:
    """One entry of a list parameter: a stable code and its Chinese name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class DatedValue:
    """A value in force from ``start`` until the next value of the same parameter."""

    start: date
    value: Any  # int (fen/days/...), Fraction, date, tuple[Bracket], tuple[ListItem], Mapping, or None
    citation: Citation


@dataclass(frozen=True, slots=True)
class Parameter:
    """One policy parameter with its whole history."""

    path: str
    description: str
    unit: Unit
    kind: Kind
    history: tuple[DatedValue, ...]
    dimensions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    overlay_slot: bool = False
    bounded_by: str | None = None
    note: str | None = None
    file: str = ""

    def value_at(self, day: date) -> DatedValue | None:
        """The dated value in force on ``day``, or None before the first date or after an end."""
        starts = [v.start for v in self.history]
        i = bisect_right(starts, day) - 1
        if i < 0:
            return None
        dv = self.history[i]
        return None if dv.value is None else dv


@dataclass(frozen=True, slots=True)
class ParamValue:
    """A parameter's value on a given day, with everything needed to explain it."""

    path: str
    value: Any
    start: date
    unit: Unit
    citation: Citation

    def to_dict(self, key: tuple[str, ...] = ()) -> dict[str, Any]:
        """JSON form used in explanations: path, value, effective date, source and quote."""
        from yibao.policy.render import render_value

        v = self.value
        for k in key:
            v = v[k]
        d: dict[str, Any] = {
            "path": self.path + "".join(f"[{k}]" for k in key),
            "value": render_value(v, self.unit),
            "unit": str(self.unit),
            "effective_from": self.start.isoformat(),
        }
        d.update(self.citation.to_dict())
        return d


@dataclass(frozen=True)
class Pack:
    """A whole policy pack (plus any overlays), immutable once loaded."""

    name: str
    description: str
    parameters: Mapping[str, Parameter]
    overlays: tuple[str, ...] = ()
    sections: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def parameter(self, path: str) -> Parameter:
        """The parameter at a dotted path; a clear error when unknown."""
        try:
            return self.parameters[path]
        except KeyError:
            raise ValidationFailed(
                "path", f"没有名为 {path} 的政策参数", f"no policy parameter named {path}", code="policy.unknown"
            ) from None

    def at(self, day: date) -> PolicyView:
        """Every value in force on ``day`` (cached per day)."""
        return _view_at(self, day)


@lru_cache(maxsize=4096)
def _view_at(pack: Pack, day: date) -> PolicyView:
    return PolicyView(pack, day)


class PolicyView:
    """Values in force on one day. Lookups of parameters not in force raise a clear error."""

    __slots__ = ("_cache", "day", "pack")

    def __init__(self, pack: Pack, day: date) -> None:
        self.pack = pack
        self.day = day
        self._cache: dict[str, ParamValue] = {}

    def get(self, path: str) -> ParamValue:
        """The value of ``path`` on this view's day."""
        pv = self._cache.get(path)
        if pv is not None:
            return pv
        param = self.pack.parameter(path)
        dv = param.value_at(self.day)
        if dv is None:
            raise ValidationFailed(
                "date",
                f"{self.day.isoformat()} 没有有效的政策参数 {path}（日期不在任何政策的有效期内）",
                f"no value of {path} is in force on {self.day.isoformat()} (the date is outside every policy)",
                code="policy.not_in_force",
            )
        pv = ParamValue(path, dv.value, dv.start, param.unit, dv.citation)
        self._cache[path] = pv
        return pv

    def has(self, path: str) -> bool:
        """True when ``path`` exists and has a value on this day."""
        p = self.pack.parameters.get(path)
        return p is not None and p.value_at(self.day) is not None
