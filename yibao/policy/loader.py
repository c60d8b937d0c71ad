"""Strict loading of policy packs and deployment overlays.

A pack is a folder of YAML files, one per parameter; folders give the dotted name
(``resident/inpatient/deductible.yaml`` is ``resident.inpatient.deductible``). A folder may hold a
``_section.yaml`` with a description and the date from which the whole section is in force.

The loader reads the YAML node tree (not plain dicts) so that every defect is reported with its
file and line: unknown keys, unsorted or duplicate dates, a parameter starting after its section
(a gap before the first date), a value without a source, or a malformed number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from yibao.core.errors import AppError
from yibao.policy.model import (
    Bracket,
    Citation,
    DatedValue,
    Kind,
    ListItem,
    Pack,
    Parameter,
    Unit,
)

PACKS_DIR = Path(__file__).parent / "packs"
OVERLAYS_DIR = Path(__file__).parent / "overlays"
SOURCES_DIR = Path(__file__).parent / "sources"

# libyaml's parser, where PyYAML was built with it, composes the same nodes (with their lines) about ten
# times faster: it is most of the start-up of a one-claim ``yibao calc``.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SECTION_FILE = "_section.yaml"
PACK_FILE = "pack.yaml"

_PARAM_KEYS = {
    "description",
    "description_en",
    "unit",
    "note",
    "reference",
    "values",
    "brackets",
    "dimensions",
    "overlay",
    "bounded_by",
}
_CITATION_KEYS = {"source", "quote", "url", "assumed", "note"}
_ENTRY_KEYS = _CITATION_KEYS | {"value", "table"}
_SCALE_ENTRY_KEYS = _CITATION_KEYS | {"scale"}
_BRACKET_KEYS = {"threshold", "rate", "assumed", "note", "source", "quote"}
_SECTION_KEYS = {"description", "description_en", "from", "note"}
_PACK_KEYS = {"name", "description", "description_en", "jurisdiction", "note"}
_OVERLAY_KEYS = {"overlay", "description", "example", "note", "values"}
_OVERLAY_ENTRY_KEYS = {"value", "table", "note", "source", "quote", "url"}

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_RE = re.compile(r"^\d{1,13}(\.\d{1,2})?$")
_RATIO_RE = re.compile(r"^\d{1,3}(\.\d{1,8})?$")
_INT_RE = re.compile(r"^\d{1,9}$")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Defect:
    """One problem found in a pack file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PackError(AppError):
    """A policy pack or overlay is malformed; lists every defect with file and line."""

    code = "policy.invalid_pack"
    http_status = 500
    exit_code = 2

    def __init__(self, defects: list[Defect]) -> None:
        lines = "\n".join(str(d) for d in defects)
        super().__init__(
            f"政策参数包有 {len(defects)} 处错误：\n{lines}",
            f"policy pack has {len(defects)} defect(s):\n{lines}",
            details={"defects": [str(d) for d in defects]},
        )
        self.defects = defects


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.defects: list[Defect] = []

    def add(self, file: Path, node: Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        try:
            name = str(file.relative_to(self.root.parent))
        except ValueError:
            name = str(file)
        self.defects.append(Defect(name, line, message))


def _compose(path: Path, out: _Collector) -> Node | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        out.add(path, None, "not UTF-8 text")
        return None
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        out.defects.append(Defect(str(path), line, f"YAML syntax: {exc.problem}"))
        return None


def _pairs(node: Node, file: Path, out: _Collector, allowed: set[str], what: str) -> dict[str, Node] | None:
    """Mapping node to {key: value node}; flags unknown and duplicate keys."""
    if not isinstance(node, MappingNode):
        out.add(file, node, f"{what} must be a mapping")
        return None
    result: dict[str, Node] = {}
    for k, v in node.value:
        key = k.value if isinstance(k, ScalarNode) else None
        if key is None:
            out.add(file, k, f"{what}: keys must be plain words")
            continue
        if key in result:
            out.add(file, k, f"{what}: duplicate key {key!r}")
            continue
        if key not in allowed:
            out.add(file, k, f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
            continue
        result[key] = v
    return result


def _text(node: Node | None, file: Path, out: _Collector, what: str) -> str | None:
    if node is None:
        return None
    if not isinstance(node, ScalarNode) or node.tag.endswith(":null") or not str(node.value).strip():
        out.add(file, node, f"{what} must be non-empty text")
        return None
    return str(node.value)


def _bool(node: Node | None, file: Path, out: _Collector, what: str) -> bool:
    if node is None:
        return False
    if not isinstance(node, ScalarNode) or node.value not in ("true", "false"):
        out.add(file, node, f"{what} must be true or false")
        return False
    return bool(node.value == "true")


def _date(node: Node, file: Path, out: _Collector, what: str) -> date | None:
    raw = node.value if isinstance(node, ScalarNode) else None
    if not isinstance(raw, str) or not _DATE_RE.match(raw):
        out.add(file, node, f"{what}: {raw!r} is not a date YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        out.add(file, node, f"{what}: {raw!r} is not a real calendar date")
        return None


def _number(node: Node, unit: Unit, file: Path, out: _Collector, what: str) -> Any:
    """Parse one scalar by unit, exactly: CNY to fen, ratio to Fraction, counts to int."""
    # A quoted scalar is text, not a number (libyaml marks a plain scalar with style "", PyYAML with None).
    if not isinstance(node, ScalarNode) or (bool(node.style) and node.tag.endswith(":str")):
        if unit is Unit.DATE and isinstance(node, ScalarNode):
            return _date(node, file, out, what)
        out.add(file, node, f"{what}: expected a plain number for unit {unit}, got {_show(node)}")
        return None
    raw = str(node.value)
    if unit is Unit.DATE:
        return _date(node, file, out, what)
    if unit is Unit.CNY:
        if not _MONEY_RE.match(raw):
            out.add(file, node, f"{what}: malformed amount {raw!r} (yuan, at most two decimals, no commas)")
            return None
        return int(Decimal(raw) * 100)
    if unit is Unit.RATIO:
        if not _RATIO_RE.match(raw):
            out.add(file, node, f"{what}: malformed ratio {raw!r} (a decimal such as 0.7, not a percentage)")
            return None
        return Fraction(Decimal(raw))
    if not _INT_RE.match(raw):
        out.add(file, node, f"{what}: malformed whole number {raw!r} for unit {unit}")
        return None
    return int(raw)


def _show(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(node.value)
    return type(node).__name__.replace("Node", "").lower()


def _citation(
    pairs: Mapping[str, Node], file: Path, out: _Collector, anchor: Node, *, required: bool = True
) -> Citation | None:
    assumed = _bool(pairs.get("assumed"), file, out, "assumed")
    source = _text(pairs.get("source"), file, out, "source")
    quote = _text(pairs.get("quote"), file, out, "quote")
    url = _text(pairs.get("url"), file, out, "url")
    note = _text(pairs.get("note"), file, out, "note")
    line = anchor.start_mark.line + 1
    if assumed:
        if not note:
            out.add(file, anchor, "an assumed value needs a note saying why and what a deployment must confirm")
        return Citation(source, quote, url, assumed=True, note=note, file=str(file), line=line)
    if source is None and quote is None:
        if required:
            out.add(file, anchor, "value without a source: give source and quote, or assumed: true with a note")
        return None
    if source is None or quote is None:
        out.add(file, anchor, "a cited value needs both source and quote")
        return None
    if source.endswith(".txt"):
        if not (SOURCES_DIR / source).is_file():
            out.add(file, pairs["source"], f"source file {source!r} is not among the policy sources")
    elif not url:
        out.add(file, pairs["source"], "a public document as source needs its url")
    return Citation(source, quote, url, note=note, file=str(file), line=line)


@dataclass
class _Spec:
    path: str
    unit: Unit
    kind: Kind
    dimensions: tuple[tuple[str, tuple[str, ...] | str], ...]


def _table(
    node: Node, spec: _Spec, dims: tuple[tuple[str, tuple[str, ...]], ...], file: Path, out: _Collector
) -> Mapping[str, Any] | None:
    name, keys = dims[0]
    pairs = _pairs(node, file, out, set(keys), f"table ({name})")
    if pairs is None:
        return None
    missing = [k for k in keys if k not in pairs]
    if missing:
        out.add(file, node, f"table ({name}) lacks {', '.join(missing)}")
    result: dict[str, Any] = {}
    for k in keys:
        if k not in pairs:
            continue
        if len(dims) > 1:
            result[k] = _table(pairs[k], spec, dims[1:], file, out)
        else:
            result[k] = _number(pairs[k], spec.unit, file, out, f"table[{k}]")
    return MappingProxyType(result)


def _list_value(node: Node, file: Path, out: _Collector) -> tuple[ListItem, ...] | None:
    if not isinstance(node, SequenceNode) or not node.value:
        out.add(file, node, "a list parameter's value must be a non-empty list of {code, name}")
        return None
    items: list[ListItem] = []
    seen: set[str] = set()
    for item in node.value:
        pairs = _pairs(item, file, out, {"code", "name"}, "list item")
        if pairs is None:
            continue
        code = _text(pairs.get("code"), file, out, "code")
        name = _text(pairs.get("name"), file, out, "name")
        if code is None or name is None:
            out.add(file, item, "list item needs code and name")
            continue
        if not _CODE_RE.match(code):
            out.add(file, item, f"code {code!r} must be lower_snake_case")
        if code in seen:
            out.add(file, item, f"duplicate code {code!r}")
        seen.add(code)
        items.append(ListItem(code, name))
    return tuple(items)


def _scale(node: Node, spec: _Spec, file: Path, out: _Collector) -> tuple[Bracket, ...] | None:
    if not isinstance(node, SequenceNode) or not node.value:
        out.add(file, node, "scale must be a non-empty list of {threshold, rate}")
        return None
    brackets: list[Bracket] = []
    for item in node.value:
        pairs = _pairs(item, file, out, _BRACKET_KEYS, "bracket")
        if pairs is None:
            continue
        if "threshold" not in pairs or "rate" not in pairs:
            out.add(file, item, "bracket needs threshold and rate")
            continue
        threshold = _number(pairs["threshold"], spec.unit, file, out, "threshold")
        rate = _number(pairs["rate"], Unit.RATIO, file, out, "rate")
        own = _citation(pairs, file, out, item, required=False)
        if threshold is None or rate is None:
            continue
        if brackets and threshold <= brackets[-1].threshold:
            out.add(file, item, "bracket thresholds must increase strictly")
        brackets.append(Bracket(threshold, rate, own))
    return tuple(brackets)


def _resolve_dims(
    spec: _Spec, lists: Mapping[str, tuple[ListItem, ...]], file: Path, out: _Collector, anchor: Node
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    dims: list[tuple[str, tuple[str, ...]]] = []
    for name, keys in spec.dimensions:
        if isinstance(keys, str):
            items = lists.get(keys)
            if items is None:
                out.add(file, anchor, f"dimension {name} refers to {keys!r}, which is not a list parameter")
                return ()
            dims.append((name, tuple(i.code for i in items)))
        else:
            dims.append((name, keys))
    return tuple(dims)


def _entry_value(
    pairs: Mapping[str, Node],
    spec: _Spec,
    dims: tuple[tuple[str, tuple[str, ...]], ...],
    file: Path,
    out: _Collector,
    anchor: Node,
) -> Any:
    if spec.kind is Kind.TABLE:
        if "table" not in pairs:
            out.add(file, anchor, "a parameter with dimensions needs `table` in each dated entry")
            return None
        return _table(pairs["table"], spec, dims, file, out)
    if "table" in pairs:
        out.add(file, pairs["table"], "`table` needs `dimensions` declared in the parameter")
        return None
    if "value" not in pairs:
        out.add(file, anchor, "dated entry needs `value`")
        return None
    node = pairs["value"]
    if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
        return None  # the parameter ends on this date
    if spec.kind is Kind.LIST:
        return _list_value(node, file, out)
    return _number(node, spec.unit, file, out, "value")


def _dated(node: Node, file: Path, out: _Collector, what: str) -> list[tuple[date, Node, Node]]:
    """The date -> entry pairs of a `values` or `brackets` mapping, checked sorted and unique."""
    if not isinstance(node, MappingNode) or not node.value:
        out.add(file, node, f"{what} must be a non-empty mapping of effective dates")
        return []
    result: list[tuple[date, Node, Node]] = []
    for k, v in node.value:
        d = _date(k, file, out, f"{what} key")
        if d is None:
            continue
        if result and d == result[-1][0]:
            out.add(file, k, f"{what}: duplicate date {d.isoformat()}")
            continue
        if result and d < result[-1][0]:
            out.add(file, k, f"{what}: dates must be in increasing order ({d.isoformat()} after {result[-1][0]})")
            continue
        result.append((d, k, v))
    return result


def _param(
    file: Path, dotted: str, out: _Collector, lists: dict[str, tuple[ListItem, ...]]
) -> tuple[Parameter, _Spec, Node] | None:
    root = _compose(file, out)
    if root is None:
        return None
    pairs = _pairs(root, file, out, _PARAM_KEYS, "parameter")
    if pairs is None:
        return None
    description = _text(pairs.get("description"), file, out, "description")
    if description is None:
        out.add(file, root, "parameter needs a Chinese `description`")
    unit_raw = _text(pairs.get("unit"), file, out, "unit")
    try:
        unit = Unit(unit_raw or "")
    except ValueError:
        out.add(file, pairs.get("unit", root), f"unit must be one of {', '.join(u.value for u in Unit)}")
        return None
    dims: list[tuple[str, tuple[str, ...] | str]] = []
    if "dimensions" in pairs:
        dn = pairs["dimensions"]
        if not isinstance(dn, MappingNode):
            out.add(file, dn, "dimensions must map a name to its list of keys (or a list parameter's path)")
        else:
            for k, v in dn.value:
                if isinstance(v, SequenceNode):
                    dims.append((str(k.value), tuple(str(x.value) for x in v.value)))
                elif isinstance(v, ScalarNode):
                    dims.append((str(k.value), str(v.value)))
                else:
                    out.add(file, v, "dimension keys must be a list")
    overlay = _bool(pairs.get("overlay"), file, out, "overlay")
    if "values" in pairs and "brackets" in pairs:
        out.add(file, pairs["brackets"], "a parameter has either values or brackets, not both")
    if unit is Unit.LIST:
        kind = Kind.LIST
    elif "brackets" in pairs:
        kind = Kind.SCALE
    elif dims:
        kind = Kind.TABLE
    else:
        kind = Kind.SCALAR
    spec = _Spec(dotted, unit, kind, tuple(dims))
    history: list[DatedValue] = []
    if "brackets" in pairs:
        for d, _k, entry in _dated(pairs["brackets"], file, out, "brackets"):
            ep = _pairs(entry, file, out, _SCALE_ENTRY_KEYS, f"brackets {d}")
            if ep is None:
                continue
            cit = _citation(ep, file, out, entry)
            if "scale" not in ep:
                out.add(file, entry, "dated scale needs `scale`")
                continue
            value = _scale(ep["scale"], spec, file, out)
            if cit is not None and value is not None:
                history.append(DatedValue(d, value, cit))
    elif "values" in pairs:
        resolved = _resolve_dims(spec, lists, file, out, root)
        for d, _k, entry in _dated(pairs["values"], file, out, "values"):
            ep = _pairs(entry, file, out, _ENTRY_KEYS, f"values {d}")
            if ep is None:
                continue
            cit = _citation(ep, file, out, entry)
            value = _entry_value(ep, spec, resolved, file, out, entry)
            if cit is not None and (value is not None or "value" in ep):
                history.append(DatedValue(d, value, cit))
    elif not overlay:
        out.add(file, root, "parameter needs `values` or `brackets` (or `overlay: true` for a deployment value)")
    if kind is Kind.LIST and history and history[-1].value is not None:
        lists[dotted] = history[-1].value
    bounded = _text(pairs.get("bounded_by"), file, out, "bounded_by")
    param = Parameter(
        path=dotted,
        description=description or "",
        unit=unit,
        kind=kind,
        history=tuple(history),
        dimensions=(),
        overlay_slot=overlay,
        bounded_by=bounded,
        note=_text(pairs.get("note"), file, out, "note"),
        file=str(file),
    )
    return param, spec, root


def _section_starts(root: Path, out: _Collector) -> tuple[dict[str, date], dict[str, str]]:
    starts: dict[str, date] = {}
    descriptions: dict[str, str] = {}
    for f in sorted(root.rglob(SECTION_FILE)):
        dotted = ".".join(f.parent.relative_to(root).parts)
        node = _compose(f, out)
        if node is None:
            continue
        pairs = _pairs(node, f, out, _SECTION_KEYS, "section")
        if pairs is None:
            continue
        desc = _text(pairs.get("description"), f, out, "description")
        if desc:
            descriptions[dotted] = desc
        if "from" in pairs:
            d = _date(pairs["from"], f, out, "from")
            if d is not None:
                starts[dotted] = d
    return starts, descriptions


def _section_from(dotted: str, starts: Mapping[str, date]) -> tuple[str, date] | None:
    parts = dotted.split(".")[:-1]
    while parts:
        key = ".".join(parts)
        if key in starts:
            return key, starts[key]
        parts.pop()
    if "" in starts:
        return "", starts[""]
    return None


def _list_first(files: Iterable[Path], root: Path) -> list[Path]:
    # List parameters are read first so that tables can take their keys from them.
    def is_list(f: Path) -> bool:
        try:
            head = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return bool(re.search(r"^unit:\s*list\s*$", head, re.M))

    fs = list(files)
    return [f for f in fs if is_list(f)] + [f for f in fs if not is_list(f)]


def load_pack(name: str = "yunnan", *, overlays: Iterable[Path] = (), packs_dir: Path | None = None) -> Pack:
    """Load and validate a pack (and overlays); raises PackError listing every defect."""
    root = (packs_dir or PACKS_DIR) / name
    if not root.is_dir():
        raise PackError([Defect(str(root), 1, f"no policy pack named {name!r}")])
    out = _Collector(root)
    meta_desc = name
    pack_file = root / PACK_FILE
    if pack_file.exists():
        node = _compose(pack_file, out)
        if node is not None:
            pairs = _pairs(node, pack_file, out, _PACK_KEYS, "pack")
            if pairs:
                meta_desc = _text(pairs.get("description"), pack_file, out, "description") or name
    starts, sections = _section_starts(root, out)
    params: dict[str, Parameter] = {}
    specs: dict[str, _Spec] = {}
    lists: dict[str, tuple[ListItem, ...]] = {}
    files = [f for f in sorted(root.rglob("*.yaml")) if f.name not in (SECTION_FILE, PACK_FILE)]
    for f in _list_first(files, root):
        rel = f.relative_to(root).with_suffix("")
        dotted = ".".join(rel.parts)
        if not all(_CODE_RE.match(p) for p in rel.parts):
            out.add(f, None, f"file and folder names must be lower_snake_case ({dotted})")
        loaded = _param(f, dotted, out, lists)
        if loaded is None:
            continue
        param, spec, node = loaded
        sec = _section_from(dotted, starts)
        if sec is not None and param.history and param.history[0].start > sec[1]:
            out.add(
                f,
                node,
                f"gap before the first date: section {sec[0] or '(pack)'} is in force from {sec[1]}, "
                f"but this parameter's first value starts {param.history[0].start}",
            )
        params[dotted] = param
        specs[dotted] = spec
    names: list[str] = []
    for ov in overlays:
        names.append(_apply_overlay(Path(ov), params, specs, lists, out))
    _check_bounds(params, out)
    if out.defects:
        raise PackError(out.defects)
    return Pack(
        name=name,
        description=meta_desc,
        parameters=MappingProxyType(dict(sorted(params.items()))),
        overlays=tuple(names),
        sections=MappingProxyType(sections),
    )


def _apply_overlay(
    file: Path,
    params: dict[str, Parameter],
    specs: Mapping[str, _Spec],
    lists: Mapping[str, tuple[ListItem, ...]],
    out: _Collector,
) -> str:
    node = _compose(file, out)
    if node is None:
        return file.stem
    pairs = _pairs(node, file, out, _OVERLAY_KEYS, "overlay")
    if pairs is None:
        return file.stem
    name = _text(pairs.get("overlay"), file, out, "overlay") or file.stem
    example = _bool(pairs.get("example"), file, out, "example")
    values = pairs.get("values")
    if not isinstance(values, MappingNode):
        out.add(file, values or node, "overlay needs `values`: a mapping of parameter paths")
        return name
    for k, v in values.value:
        path = str(k.value)
        param = params.get(path)
        if param is None:
            out.add(file, k, f"overlay sets {path!r}, which the pack does not declare")
            continue
        if not param.overlay_slot:
            out.add(file, k, f"{path} is a sourced policy value; an overlay may only set `overlay: true` parameters")
            continue
        spec = specs[path]
        dims = _resolve_dims(spec, lists, file, out, k)
        history: list[DatedValue] = []
        for d, _dk, entry in _dated(v, file, out, path):
            ep = _pairs(entry, file, out, _OVERLAY_ENTRY_KEYS, f"{path} {d}")
            if ep is None:
                continue
            note = _text(ep.get("note"), file, out, "note")
            if not note:
                out.add(file, entry, "an overlay value needs a note (who decided it, or that it is an example)")
            value = _entry_value(ep, spec, dims, file, out, entry)
            cit = Citation(
                source=_text(ep.get("source"), file, out, "source") or f"overlay:{name}",
                quote=_text(ep.get("quote"), file, out, "quote"),
                url=_text(ep.get("url"), file, out, "url"),
                overlay=name,
                example=example,
                note=note,
                file=str(file),
                line=entry.start_mark.line + 1,
            )
            history.append(DatedValue(d, value, cit))
        params[path] = replace(param, history=tuple(history))
    return name


def _cells(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _cells(v)
    else:
        yield value


def _check_bounds(params: Mapping[str, Parameter], out: _Collector) -> None:
    """Overlay values must stay inside the range the policy allows (e.g. 60% to 80%)."""
    for p in params.values():
        if not p.bounded_by:
            continue
        bound = params.get(p.bounded_by)
        if bound is None or bound.kind is not Kind.TABLE:
            out.add(Path(p.file), None, f"bounded_by {p.bounded_by!r} is not a table parameter with min and max")
            continue
        for dv in p.history:
            b = bound.value_at(dv.start)
            if b is None or dv.value is None:
                continue
            lo, hi = b.value.get("min"), b.value.get("max")
            for cell in _cells(dv.value):
                if cell is not None and not (lo <= cell <= hi):
                    out.defects.append(
                        Defect(
                            dv.citation.file,
                            dv.citation.line,
                            f"{p.path}: value {cell} lies outside {p.bounded_by} [{lo}, {hi}]",
                        )
                    )


def default_overlays() -> list[Path]:
    """Overlays of this deployment: YIBAO_POLICY_OVERLAYS (os.pathsep-separated), else the demo overlay."""
    from yibao.core.settings import get_settings

    raw = get_settings().policy_overlays
    if raw is None:
        return [OVERLAYS_DIR / "demo.yaml"]
    return [Path(p) for p in raw.split(":") if p]


@lru_cache(maxsize=8)
def _cached(name: str, overlays: tuple[str, ...]) -> Pack:
    return load_pack(name, overlays=[Path(p) for p in overlays])


def get_pack(name: str = "yunnan") -> Pack:
    """The deployment's pack with its overlays, loaded once per process."""
    return _cached(name, tuple(str(p) for p in default_overlays()))
