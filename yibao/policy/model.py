"""The loaded policy pack: a typed, frozen tree of dated, cited parameters.

A parameter has a history of dated values; each value carries its citation (a seed file and the
exact sentence it comes from), or is marked assumed with a note, or comes from an overlay: a
deployment's values, or a reform's changed rules. ``Pack.at(day)`` gives a ``PolicyView`` of every
value in force that day, read through typed lookups that check the parameter's unit and shape:
``money`` (int fen), ``ratio`` (Fraction), ``whole`` (days, months, years, counts), ``items`` and
``codes`` (lists), ``scale`` (brackets), and on a ``ParamValue`` also ``day`` (dates).

A pack pickles (it travels to worker processes whole) and two packs loaded from the same files are
equal.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any, NoReturn, TypeVar, cast

from yibao.core.errors import ValidationFailed

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(dict[K, V]):
    """A mapping that refuses changes once built (a table of a policy value), and pickles."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError("a policy value does not change once loaded")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[type[FrozenMap[K, V]], tuple[dict[K, V]]]:
        return (FrozenMap, (dict(self),))


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


WHOLE_UNITS = frozenset({Unit.DAYS, Unit.MONTHS, Unit.YEARS, Unit.COUNT})


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
    overlay: str | None = None  # name of the overlay that set it (a deployment's or a reform's)
    example: bool = False  # an overlay's example value, not policy
    note: str | None = None
    file: str = ""
    line: int = 0
    reform: str | None = None  # the title of the reform that changed this value, when a reform overlay set it

    @property
    def is_assumption(self) -> bool:
        """True when the value is neither cited nor a declared reform (assumed, or a deployment's overlay)."""
        return self.assumed or (self.overlay is not None and self.reform is None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        d: dict[str, Any] = {"source": self.source, "quote": self.quote}
        if self.url:
            d["url"] = self.url
        if self.assumed:
            d["assumed"] = True
        if self.overlay:
            d["overlay"] = self.overlay
        if self.reform:
            d["reform"] = self.reform
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


# A value as loaded: a number (fen, a ratio, days...), a date, a scale, a list, or a table of values.
Cell = int | Fraction | date
Value = Cell | tuple[Bracket, ...] | tuple[ListItem, ...] | Mapping[str, "Value"]


@dataclass(frozen=True, slots=True)
class Reform:
    """A reform overlay: cited values changed on purpose, and every decision using them says so."""

    name: str
    title: str
    file: str


@dataclass(frozen=True, slots=True)
class DatedValue:
    """A value in force from ``start`` until the next value of the same parameter (None: no value from then)."""

    start: date
    value: Value | None
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


def _misread(path: str, what: str, unit: Unit) -> TypeError:
    # A programming error: the code asked for a kind of value this parameter does not hold.
    return TypeError(f"{path} holds {unit} values, not {what}")


@dataclass(frozen=True, slots=True)
class ParamValue:
    """A parameter's value on a given day, with everything needed to explain it."""

    path: str
    value: Value
    start: date
    unit: Unit
    citation: Citation

    def cell(self, *key: str) -> Value:
        """The value, or one cell of a table (``key`` names a key per dimension)."""
        v = self.value
        for k in key:
            if not isinstance(v, Mapping):
                raise TypeError(f"{self.path} is not a table with the key {k!r}")
            v = v[k]
        return v

    # The typed lookups sit on the hot path of every decision: exact type checks, no copies.

    def money(self, *key: str) -> int:
        """An amount in fen."""
        v = self.cell(*key) if key else self.value
        if type(v) is not int or self.unit is not Unit.CNY:
            raise _misread(self.path, "money", self.unit)
        return v

    def ratio(self, *key: str) -> Fraction:
        """An exact ratio."""
        v = self.cell(*key) if key else self.value
        if type(v) is not Fraction or self.unit is not Unit.RATIO:
            raise _misread(self.path, "a ratio", self.unit)
        return v

    def whole(self, *key: str) -> int:
        """A whole number of days, months, years or things."""
        v = self.cell(*key) if key else self.value
        if type(v) is not int or self.unit not in WHOLE_UNITS:
            raise _misread(self.path, "a whole number", self.unit)
        return v

    def day(self, *key: str) -> date:
        """A date."""
        v = self.cell(*key) if key else self.value
        if type(v) is not date or self.unit is not Unit.DATE:
            raise _misread(self.path, "a date", self.unit)
        return v

    def items(self) -> tuple[ListItem, ...]:
        """The entries of a list parameter, in order (the loader made every entry a ListItem)."""
        v = self.value
        if self.unit is not Unit.LIST or not isinstance(v, tuple) or (v and not isinstance(v[0], ListItem)):
            raise _misread(self.path, "a list", self.unit)
        return cast("tuple[ListItem, ...]", v)  # the pack's own tuple: callers may cache by identity

    def codes(self) -> tuple[str, ...]:
        """The codes of a list parameter, in order."""
        return tuple(i.code for i in self.items())

    def scale(self) -> tuple[Bracket, ...]:
        """The bands of a marginal rate scale, by increasing threshold (the loader made every band a Bracket)."""
        v = self.value
        if not isinstance(v, tuple) or not v or not isinstance(v[0], Bracket):
            raise _misread(self.path, "a scale", self.unit)
        return v  # the pack's own tuple: compiled scales are cached by identity

    def to_dict(self, key: tuple[str, ...] = ()) -> dict[str, Any]:
        """JSON form used in explanations: path, value, effective date, source and quote."""
        from yibao.policy.render import render_value

        d: dict[str, Any] = {
            "path": self.path + "".join(f"[{k}]" for k in key),
            "value": render_value(self.cell(*key), self.unit),
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
    sections: Mapping[str, str] = field(default_factory=FrozenMap)
    reforms: tuple[Reform, ...] = ()
    _views: dict[date, PolicyView] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        return hash((self.name, self.overlays))

    def __getstate__(self) -> dict[str, Any]:
        # The views are a cache of this process: a copy starts without them.
        return {k: v for k, v in self.__dict__.items() if k != "_views"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _views={})

    def parameter(self, path: str) -> Parameter:
        """The parameter at a dotted path; a clear error when unknown."""
        try:
            return self.parameters[path]
        except KeyError:
            raise ValidationFailed(
                "path", f"没有名为 {path} 的政策参数", f"no policy parameter named {path}", code="policy.unknown"
            ) from None

    def at(self, day: date) -> PolicyView:
        """Every value in force on ``day`` (kept per day: claims of one day share it)."""
        view = self._views.get(day)
        if view is None:
            if len(self._views) >= 4096:
                self._views.clear()  # a bound on the memory a long run of many days can take
            view = self._views[day] = PolicyView(self, day)
        return view

    def whole(self, path: str, on: date, *key: str) -> int:
        """A whole number (days, months, years, a count) in force on ``on``."""
        return self.at(on).get(path).whole(*key)

    def items(self, path: str, on: date) -> tuple[ListItem, ...]:
        """A list parameter's entries in force on ``on``."""
        return self.at(on).get(path).items()

    def codes(self, path: str, on: date) -> tuple[str, ...]:
        """A list parameter's codes in force on ``on``."""
        return self.at(on).get(path).codes()


class PolicyView:
    """Values in force on one day. Lookups of parameters not in force raise a clear error."""

    __slots__ = ("_cache", "on", "pack")

    def __init__(self, pack: Pack, on: date) -> None:
        self.pack = pack
        self.on = on
        self._cache: dict[str, ParamValue] = {}

    def get(self, path: str) -> ParamValue:
        """The value of ``path`` on this view's day, with its citation."""
        pv = self._cache.get(path)
        if pv is not None:
            return pv
        param = self.pack.parameter(path)
        dv = param.value_at(self.on)
        if dv is None or dv.value is None:
            raise ValidationFailed(
                "date",
                f"{self.on.isoformat()} 没有有效的政策参数 {path}（日期不在任何政策的有效期内）",
                f"no value of {path} is in force on {self.on.isoformat()} (the date is outside every policy)",
                code="policy.not_in_force",
            )
        pv = ParamValue(path, dv.value, dv.start, param.unit, dv.citation)
        self._cache[path] = pv
        return pv

    def has(self, path: str) -> bool:
        """True when ``path`` exists and has a value on this day."""
        p = self.pack.parameters.get(path)
        return p is not None and p.value_at(self.on) is not None

    def money(self, path: str, *key: str) -> int:
        """An amount in fen."""
        return self.get(path).money(*key)

    def ratio(self, path: str, *key: str) -> Fraction:
        """An exact ratio."""
        return self.get(path).ratio(*key)

    def whole(self, path: str, *key: str) -> int:
        """A whole number of days, months, years or things."""
        return self.get(path).whole(*key)

    def items(self, path: str) -> tuple[ListItem, ...]:
        """A list parameter's entries."""
        return self.get(path).items()

    def codes(self, path: str) -> tuple[str, ...]:
        """A list parameter's codes."""
        return self.get(path).codes()

    def scale(self, path: str) -> tuple[Bracket, ...]:
        """A rate scale."""
        return self.get(path).scale()
