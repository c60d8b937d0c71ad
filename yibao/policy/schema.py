"""The shapes of the policy files, as Pydantic models: parameters, sections, the pack, overlays.

A file's data (from :mod:`yibao.policy.yamlmarks`) is validated by its model; every error carries the
location of the node it concerns, which the loader turns into the file's line. Values are read exactly,
by the parameter's unit (:class:`Shape`, passed as the validation context): yuan to integer fen, ratios
to Fractions, counts and days to int, dates to dates; a quoted number is text, never a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from yibao.policy.model import Bracket, Citation, FrozenMap, Kind, ListItem, Unit, Value
from yibao.policy.yamlmarks import KEY, Loc, Plain

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_RE = re.compile(r"^\d{1,13}(\.\d{1,2})?$")
_RATIO_RE = re.compile(r"^\d{1,3}(\.\d{1,8})?$")
_INT_RE = re.compile(r"^\d{1,9}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

Issue = tuple[Loc, str]  # where (relative to the node being validated) and what
E = TypeVar("E")


def invalid(*issues: Issue) -> ValidationError:
    """Errors at locations of one's own choosing (Pydantic prefixes them with the enclosing node's location)."""
    return ValidationError.from_exception_data(
        "policy",
        [
            InitErrorDetails(type=PydanticCustomError("policy", "{message}", {"message": m}), loc=loc, input=None)
            for loc, m in issues
        ],
    )


def issues_of(exc: ValidationError) -> list[Issue]:
    """A validation error's errors, each with its location and a message written for a policy editor."""
    return [(tuple(e["loc"]), _message(e["type"], tuple(e["loc"]), e["msg"])) for e in exc.errors()]


# What a missing key is for, where a bare "needs `key`" would not say.
_NEEDED = {
    "description": "needs a Chinese `description`",
    "note": "needs a `note` (who decided the value, or that it is an example)",
}


def _message(kind: str, loc: Loc, msg: str) -> str:
    name = next((str(p) for p in reversed(loc) if isinstance(p, str) and p != KEY), None)
    if kind == "missing":
        return _NEEDED.get(name or "", f"needs `{name}`")
    found = {
        "model_type": "must be a mapping of keys",
        "dict_type": "must be a mapping",
        "list_type": "must be a list",
        "string_type": "must be text",
    }.get(kind, msg)
    # A sentence without a subject names the key it is about.
    return f"{name}: {found}" if name and found.startswith("must ") else found


@dataclass(frozen=True, slots=True)
class Shape:
    """How to read one parameter's values: its unit, the shape of its value and its table's dimensions."""

    unit: Unit | None  # None: the file's unit is itself wrong (reported once, values not read)
    kind: Kind
    dims: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # None: no table, or dimensions not readable
    sources: Path | None = None  # where cited seed files live


def _shape(info: ValidationInfo) -> Shape:
    ctx = info.context
    shape = ctx.get("shape") if isinstance(ctx, dict) else None
    if not isinstance(shape, Shape):
        raise RuntimeError("policy files are validated with a Shape in the context")
    return shape


# ---- scalars -------------------------------------------------------------------------------------


def _show(raw: Any) -> str:
    if isinstance(raw, str):
        return repr(str(raw))
    if isinstance(raw, dict):
        return "mapping"
    if isinstance(raw, list):
        return "list"
    return "null" if raw is None else type(raw).__name__


def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise PydanticCustomError("policy", "must be non-empty text")
    return str(raw)


def _flag(raw: Any) -> bool:
    if raw not in ("true", "false"):
        raise PydanticCustomError("policy", "must be true or false")
    return bool(raw == "true")


def read_date(raw: Any) -> date:
    """A ``YYYY-MM-DD`` date that exists in the calendar."""
    if not isinstance(raw, str) or not _DATE_RE.match(raw):
        raise PydanticCustomError("policy", "{raw} is not a date YYYY-MM-DD", {"raw": _show(raw)})
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PydanticCustomError("policy", "{raw} is not a real calendar date", {"raw": repr(str(raw))}) from None


def _code(raw: str) -> str:
    if not CODE_RE.match(raw):
        raise PydanticCustomError("policy", "code {code} must be lower_snake_case", {"code": repr(raw)})
    return raw


Text = Annotated[str, BeforeValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
EffectiveDate = Annotated[date, BeforeValidator(read_date)]
Code = Annotated[Text, AfterValidator(_code)]


def read_number(raw: Any, unit: Unit) -> int | Fraction | date:
    """One value, exactly: yuan to fen, a ratio to a Fraction, a whole number to int, a date to a date."""
    if unit is Unit.DATE:
        return read_date(raw)
    if not isinstance(raw, Plain):
        raise PydanticCustomError(
            "policy", "expected a plain number for unit {unit}, got {raw}", {"unit": str(unit), "raw": _show(raw)}
        )
    if unit is Unit.CNY:
        if not _MONEY_RE.match(raw):
            raise PydanticCustomError(
                "policy", "malformed amount {raw} (yuan, at most two decimals, no commas)", {"raw": repr(str(raw))}
            )
        return int(Decimal(raw) * 100)
    if unit is Unit.RATIO:
        if not _RATIO_RE.match(raw):
            raise PydanticCustomError(
                "policy", "malformed ratio {raw} (a decimal such as 0.7, not a percentage)", {"raw": repr(str(raw))}
            )
        return Fraction(Decimal(raw))
    if not _INT_RE.match(raw):
        raise PydanticCustomError(
            "policy", "malformed whole number {raw} for unit {unit}", {"raw": repr(str(raw)), "unit": str(unit)}
        )
    return int(raw)


def _nested(prefix: Loc, exc: ValidationError | PydanticCustomError) -> list[Issue]:
    if isinstance(exc, PydanticCustomError):
        return [(prefix, exc.message())]
    return [((*prefix, *loc), m) for loc, m in issues_of(exc)]


def read_table(raw: Any, dims: Sequence[tuple[str, tuple[str, ...]]], unit: Unit) -> FrozenMap[str, Value]:
    """A table with one level of keys per dimension, every key present, none other."""
    name, keys = dims[0]
    if not isinstance(raw, dict):
        raise invalid(((), f"table ({name}) must map {', '.join(keys)} to values"))
    issues: list[Issue] = [
        ((k, KEY), f"table ({name}): unknown key {k!r} (allowed: {', '.join(keys)})") for k in raw if k not in keys
    ]
    missing = [k for k in keys if k not in raw]
    if missing:
        issues.append(((), f"table ({name}) lacks {', '.join(missing)}"))
    out: dict[str, Value] = {}
    for k in keys:
        if k not in raw:
            continue
        try:
            out[k] = read_table(raw[k], dims[1:], unit) if len(dims) > 1 else read_number(raw[k], unit)
        except (ValidationError, PydanticCustomError) as exc:
            issues += _nested((k,), exc)
    if issues:
        raise invalid(*issues)
    return FrozenMap(out)


# ---- models --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    """A mapping with known keys: an unknown key is named (with the allowed ones) beside every other error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _known_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if not isinstance(data, dict):
            raise invalid(((), f"must be a mapping of keys, not {_show(data)}"))
        allowed = {f.alias or name for name, f in cls.model_fields.items()}
        unknown = [k for k in data if k not in allowed]
        if not unknown:
            return handler(data)
        issues: list[Issue] = [
            ((k, KEY), f"unknown key {k!r} (allowed: {', '.join(sorted(allowed))})") for k in unknown
        ]
        try:
            handler({k: v for k, v in data.items() if k in allowed})
        except ValidationError as exc:
            issues += issues_of(exc)
        raise invalid(*issues)


class _Citing(_Strict):
    """Where a value comes from: a seed file (or a public document with its url) and the exact sentence."""

    source: Text | None = None
    quote: Text | None = None
    url: Text | None = None
    assumed: Flag = False
    note: Text | None = None

    citation_required: ClassVar[bool] = True

    def citation_issues(self, shape: Shape) -> list[Issue]:
        """What is missing or wrong in the citation."""
        if self.assumed:
            if not self.note:
                return [((), "an assumed value needs a note saying why and what a deployment must confirm")]
            return []
        if self.source is None and self.quote is None:
            if self.citation_required:
                return [((), "value without a source: give source and quote, or assumed: true with a note")]
            return []
        if self.source is None or self.quote is None:
            return [((), "a cited value needs both source and quote")]
        if self.source.endswith(".txt"):
            if shape.sources is not None and not (shape.sources / self.source).is_file():
                return [(("source",), f"source file {self.source!r} is not among the policy sources")]
        elif not self.url:
            return [(("source",), "a public document as source needs its url")]
        return []

    def citation(self, file: str, line: int) -> Citation | None:
        """The citation (None for a bracket without one of its own)."""
        if not self.assumed and self.source is None:
            return None
        return Citation(self.source, self.quote, self.url, self.assumed, note=self.note, file=file, line=line)

    @model_validator(mode="after")
    def _checked(self, info: ValidationInfo) -> Self:
        shape = _shape(info)
        issues = self.citation_issues(shape) + self.shape_issues(shape)
        if issues:
            raise invalid(*issues)
        return self

    def shape_issues(self, shape: Shape) -> list[Issue]:
        """What is wrong with the entry's form of value (none for a bare citation)."""
        return []


class BracketModel(_Citing):
    """One band of a scale: ``rate`` on the part above ``threshold`` (in the parameter's unit)."""

    threshold: Any
    rate: Any

    citation_required: ClassVar[bool] = False

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, raw: Any, info: ValidationInfo) -> Any:
        unit = _shape(info).unit
        return None if unit is None else read_number(raw, unit)

    @field_validator("rate")
    @classmethod
    def _rate(cls, raw: Any) -> Fraction:
        rate = read_number(raw, Unit.RATIO)
        assert isinstance(rate, Fraction)
        return rate

    def bracket(self, file: str, line: int) -> Bracket:
        """As the model holds it."""
        return Bracket(self.threshold, self.rate, self.citation(file, line))


def _scale(brackets: list[BracketModel]) -> list[BracketModel]:
    if not brackets:
        raise invalid(((), "must be a non-empty list of {threshold, rate}"))
    issues: list[Issue] = [
        ((i,), "bracket thresholds must increase strictly")
        for i in range(1, len(brackets))
        if brackets[i - 1].threshold is not None
        and brackets[i].threshold is not None
        and brackets[i].threshold <= brackets[i - 1].threshold
    ]
    if issues:
        raise invalid(*issues)
    return brackets


Scale = Annotated[list[BracketModel], AfterValidator(_scale)]


class ListItemModel(_Strict):
    """One entry of a list: a stable code and its Chinese name."""

    code: Code
    name: Text


def _items(items: list[ListItemModel]) -> tuple[ListItem, ...]:
    if not items:
        raise invalid(((), "a list parameter's value must be a non-empty list of {code, name}"))
    seen: set[str] = set()
    issues: list[Issue] = []
    for i, item in enumerate(items):
        if item.code in seen:
            issues.append(((i, "code"), f"duplicate code {item.code!r}"))
        seen.add(item.code)
    if issues:
        raise invalid(*issues)
    return tuple(ListItem(i.code, i.name) for i in items)


_LIST: TypeAdapter[Any] = TypeAdapter(Annotated[list[ListItemModel], AfterValidator(_items)])


def _value(raw: Any, info: ValidationInfo) -> Value | None:
    """``value`` of a dated entry: read by the parameter's unit (null: the parameter ends on this date)."""
    shape = _shape(info)
    if raw is None or shape.unit is None or shape.kind in (Kind.TABLE, Kind.SCALE):
        return None  # an ending, or a form the entry's own check reports
    if shape.kind is Kind.LIST:
        items: tuple[ListItem, ...] = _LIST.validate_python(raw, context=info.context)
        return items
    return read_number(raw, shape.unit)


def _table(raw: Any, info: ValidationInfo) -> Value | None:
    """``table`` of a dated entry: one level of keys per declared dimension."""
    shape = _shape(info)
    if shape.unit is None or shape.dims is None or shape.kind is not Kind.TABLE:
        return None  # no dimensions (the entry's own check says so) or unreadable ones (reported already)
    return read_table(raw, shape.dims, shape.unit)


def _form_issues(entry: BaseModel, shape: Shape, *, scale: bool) -> list[Issue]:
    """The entry gives its value in the form the parameter takes: ``table``, ``value`` or ``scale``."""
    given = entry.model_fields_set
    if shape.kind is Kind.SCALE:
        if not scale:
            return [((), "a parameter with brackets takes dated scales under `brackets`")]
        return [] if "scale" in given else [((), "dated scale needs `scale`")]
    if "scale" in given:
        return [(("scale", KEY), "`scale` is for parameters with brackets")]
    if shape.kind is Kind.TABLE:
        return [] if "table" in given else [((), "a parameter with dimensions needs `table` in each dated entry")]
    if "table" in given:
        return [(("table", KEY), "`table` needs `dimensions` declared in the parameter")]
    return [] if "value" in given else [((), "dated entry needs `value`")]


class ValueEntry(_Citing):
    """A value of ``values``, from its date: ``value`` (``table`` for a parameter with dimensions) and its source."""

    value: Any = None
    table: Any = None

    _read_value = field_validator("value")(_value)
    _read_table = field_validator("table")(_table)

    def shape_issues(self, shape: Shape) -> list[Issue]:
        """``table`` exactly when the parameter has dimensions, else ``value``."""
        return _form_issues(self, shape, scale=False)

    @property
    def read(self) -> Value | None:
        """The value as the pack holds it (None: the parameter ends on this date)."""
        return cast("Value | None", self.table if "table" in self.model_fields_set else self.value)


class ScaleEntry(_Citing):
    """A scale of ``brackets``, from its date, with its source."""

    scale: Scale


def _dated(entries: dict[date, E]) -> dict[date, E]:
    if not entries:
        raise invalid(((), "must be a non-empty mapping of effective dates"))
    days = list(entries)
    issues: list[Issue] = [
        ((d.isoformat(), KEY), f"dates must be in increasing order ({d.isoformat()} after {before.isoformat()})")
        for before, d in pairwise(days)
        if d < before
    ]
    if issues:
        raise invalid(*issues)
    return entries


def _unit(raw: Any) -> Unit:
    if raw not in {u.value for u in Unit}:
        raise PydanticCustomError("policy", "unit must be one of {units}", {"units": ", ".join(u.value for u in Unit)})
    return Unit(raw)


def _dimension(raw: Any) -> tuple[str, ...] | str:
    if isinstance(raw, list) and raw and all(isinstance(k, str) and k.strip() for k in raw):
        return tuple(str(k) for k in raw)
    if isinstance(raw, str) and raw.strip():
        return str(raw)
    raise PydanticCustomError("policy", "dimension keys must be a list (or a list parameter's path)")


class ParameterFile(_Strict):
    """One parameter: ``resident/inpatient/deductible.yaml`` is ``resident.inpatient.deductible``."""

    description: Text
    description_en: Text | None = None
    unit: Annotated[Unit, BeforeValidator(_unit)]
    note: Text | None = None
    reference: Text | None = None
    dimensions: dict[Text, Annotated[tuple[str, ...] | str, BeforeValidator(_dimension)]] | None = None
    overlay: Flag = False
    bounded_by: Text | None = None
    values: Annotated[dict[EffectiveDate, ValueEntry], AfterValidator(_dated)] | None = None
    brackets: Annotated[dict[EffectiveDate, ScaleEntry], AfterValidator(_dated)] | None = None

    @model_validator(mode="after")
    def _one_history(self) -> Self:
        if self.values is not None and self.brackets is not None:
            raise invalid((("brackets", KEY), "a parameter has either values or brackets, not both"))
        if self.values is None and self.brackets is None and not self.overlay:
            raise invalid(((), "parameter needs `values` or `brackets` (or `overlay: true` for a deployment value)"))
        return self


def shape_of(data: Any, lists: Mapping[str, tuple[ListItem, ...]], sources: Path) -> tuple[Shape, list[Issue]]:
    """How a parameter file's values are to be read, from its unit and dimensions (read before the rest).

    A dimension may name a list parameter instead of its keys: the list's codes are its keys.
    """
    if not isinstance(data, dict):
        return Shape(None, Kind.SCALAR, sources=sources), []
    raw_unit = data.get("unit")
    unit = Unit(raw_unit) if raw_unit in {u.value for u in Unit} else None
    raw_dims = data.get("dimensions")
    issues: list[Issue] = []
    dims: list[tuple[str, tuple[str, ...]]] = []
    readable = isinstance(raw_dims, dict)
    for name, keys in raw_dims.items() if isinstance(raw_dims, dict) else ():
        try:
            found = _dimension(keys)
        except PydanticCustomError:
            readable = False  # the model reports it
            break
        if isinstance(found, str):
            items = lists.get(found)
            if items is None:
                issues.append(
                    (("dimensions", name), f"dimension {name} refers to {found!r}, which is not a list parameter")
                )
                readable = False
                break
            found = tuple(i.code for i in items)
        dims.append((name, found))
    if unit is Unit.LIST:
        kind = Kind.LIST
    elif "brackets" in data:
        kind = Kind.SCALE
    elif raw_dims is not None:
        kind = Kind.TABLE
    else:
        kind = Kind.SCALAR
    return Shape(unit, kind, tuple(dims) if kind is Kind.TABLE and readable and dims else None, sources), issues


class SectionFile(_Strict):
    """``_section.yaml``: a folder's description, and the date from which the whole section is in force."""

    description: Text | None = None
    description_en: Text | None = None
    start: EffectiveDate | None = Field(None, alias="from")
    note: Text | None = None


class PackFile(_Strict):
    """``pack.yaml``: the pack's name and description."""

    name: Text | None = None
    description: Text | None = None
    description_en: Text | None = None
    jurisdiction: Text | None = None
    note: Text | None = None


class OverlayEntry(_Strict):
    """A value an overlay sets from its date: ``value``, ``table`` or ``scale``, why (``note``), and where from."""

    value: Any = None
    table: Any = None
    scale: Scale | None = None
    note: Text
    source: Text | None = None
    quote: Text | None = None
    url: Text | None = None

    _read_value = field_validator("value")(_value)
    _read_table = field_validator("table")(_table)

    @model_validator(mode="after")
    def _checked(self, info: ValidationInfo) -> Self:
        issues = _form_issues(self, _shape(info), scale=True)
        if issues:
            raise invalid(*issues)
        return self

    @property
    def read(self) -> Value | None:
        """The value as the pack holds it, for ``value`` and ``table`` (a scale's brackets: see the loader)."""
        return cast("Value | None", self.table if "table" in self.model_fields_set else self.value)


OVERLAY_ENTRIES = TypeAdapter(Annotated[dict[EffectiveDate, OverlayEntry], AfterValidator(_dated)])


class OverlayFile(_Strict):
    """An overlay: a deployment's values for ``overlay: true`` parameters, or a reform of cited values.

    A reform (``reform: true``, with a ``title`` saying what it changes) may change any parameter; every
    decision that uses one of its values says so. A deployment overlay may only set ``overlay: true``
    parameters.
    """

    overlay: Text | None = None
    description: Text | None = None
    example: Flag = False
    reform: Flag = False
    title: Text | None = None
    note: Text | None = None
    values: dict[Text, Any]

    @field_validator("values")
    @classmethod
    def _some(cls, values: dict[str, Any]) -> dict[str, Any]:
        if not values:
            raise invalid(((), "must map parameter paths to their dated values"))
        return values

    @model_validator(mode="after")
    def _titled(self) -> Self:
        if self.reform and not self.title:
            raise invalid((("reform", KEY), "a reform needs a `title` saying what it changes"))
        if self.title and not self.reform:
            raise invalid((("title", KEY), "`title` names a reform: add `reform: true` or remove it"))
        return self
