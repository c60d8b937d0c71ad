"""Loading policy packs and overlays, with every defect reported by file and line.

A pack is a folder of YAML files, one per parameter; folders give the dotted name
(``resident/inpatient/deductible.yaml`` is ``resident.inpatient.deductible``). A folder may hold a
``_section.yaml`` with a description and the date from which the whole section is in force.

Each file is read with the line of every node (:mod:`yibao.policy.yamlmarks`) and validated by its
model (:mod:`yibao.policy.schema`): unknown keys, unsorted dates, a value without a source, a malformed
number. What spans files is checked here: a parameter starting after its section (a gap before the first
date), dimensions naming list parameters, what an overlay may set, and overlay values inside the bounds
the policy allows.

Overlays come after the pack, in order. A deployment overlay sets ``overlay: true`` parameters (values
only a deployment knows); a reform overlay (``reform: true`` with a ``title``) may change any value, from
its first date on, and every decision that uses a reformed value says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from yibao.core.errors import AppError
from yibao.policy import schema, yamlmarks
from yibao.policy.model import Citation, DatedValue, FrozenMap, Kind, ListItem, Pack, Parameter, Reform, Value
from yibao.policy.schema import OVERLAY_ENTRIES, OverlayFile, PackFile, ParameterFile, SectionFile, Shape
from yibao.policy.yamlmarks import KEY, Loc, Marks

PACKS_DIR = Path(__file__).parent / "packs"
OVERLAYS_DIR = Path(__file__).parent / "overlays"
SOURCES_DIR = Path(__file__).parent / "sources"

SECTION_FILE = "_section.yaml"
PACK_FILE = "pack.yaml"

_LOADER: type[yaml.SafeLoader] = yamlmarks.LOADER
T = TypeVar("T")


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


class _Reader:
    """Reads and validates the files of one pack and its overlays, collecting every defect."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.defects: list[Defect] = []

    def name(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root.parent))
        except ValueError:
            return str(file)

    def add(self, file: Path, line: int, message: str) -> None:
        self.defects.append(Defect(self.name(file), line, message))

    def read(self, file: Path) -> tuple[Any, Marks] | None:
        data, marks, problems = yamlmarks.read(file, _LOADER)
        for p in problems:
            self.add(file, p.line, p.message)
        return None if data is None and problems else (data, marks)

    def valid(self, file: Path, marks: Marks, check: Callable[[], T], prefix: Loc = ()) -> T | None:
        """What ``check`` returns, or None with its errors recorded at their lines."""
        try:
            return check()
        except ValidationError as exc:
            for loc, message in schema.issues_of(exc):
                self.add(file, marks.line((*prefix, *loc)), message)
            return None


def _entry_line(marks: Marks, section: str, day: date) -> int:
    return marks.line((section, day.isoformat()))


def _parameter(
    r: _Reader, file: Path, dotted: str, data: Any, marks: Marks, lists: Mapping[str, tuple[ListItem, ...]]
) -> tuple[Parameter, Shape] | None:
    shape, issues = schema.shape_of(data, lists, SOURCES_DIR)
    for loc, message in issues:
        r.add(file, marks.line(loc), message)
    found = r.valid(file, marks, partial(ParameterFile.model_validate, data, context={"shape": shape}))
    if found is None or issues:
        return None
    where = str(file)
    history: list[DatedValue] = []
    for day, scale_entry in (found.brackets or {}).items():
        line = _entry_line(marks, "brackets", day)
        brackets = tuple(
            b.bracket(where, marks.line(("brackets", day.isoformat(), "scale", i)))
            for i, b in enumerate(scale_entry.scale)
        )
        history.append(DatedValue(day, brackets, _cited(scale_entry.citation(where, line))))
    for day, entry in (found.values or {}).items():
        history.append(DatedValue(day, entry.read, _cited(entry.citation(where, _entry_line(marks, "values", day)))))
    param = Parameter(
        path=dotted,
        description=found.description,
        unit=found.unit,
        kind=shape.kind,
        history=tuple(history),
        dimensions=shape.dims or (),
        overlay_slot=found.overlay,
        bounded_by=found.bounded_by,
        note=found.note,
        file=where,
    )
    return param, shape


def _cited(citation: Citation | None) -> Citation:
    assert citation is not None  # an entry without a citation does not validate
    return citation


def _sections(r: _Reader, root: Path) -> tuple[dict[str, date], dict[str, str]]:
    starts: dict[str, date] = {}
    descriptions: dict[str, str] = {}
    for f in sorted(root.rglob(SECTION_FILE)):
        dotted = ".".join(f.parent.relative_to(root).parts)
        read = r.read(f)
        if read is None:
            continue
        data, marks = read
        section = r.valid(f, marks, partial(SectionFile.model_validate, data))
        if section is None:
            continue
        if section.description:
            descriptions[dotted] = section.description
        if section.start is not None:
            starts[dotted] = section.start
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


def load_pack(name: str = "yunnan", *, overlays: Iterable[Path] = (), packs_dir: Path | None = None) -> Pack:
    """Load and validate a pack (and overlays); raises PackError listing every defect."""
    root = (packs_dir or PACKS_DIR) / name
    if not root.is_dir():
        raise PackError([Defect(str(root), 1, f"no policy pack named {name!r}")])
    r = _Reader(root)
    description = name
    pack_file = root / PACK_FILE
    if pack_file.exists() and (read := r.read(pack_file)) is not None:
        found = r.valid(pack_file, read[1], partial(PackFile.model_validate, read[0]))
        description = (found.description if found else None) or name
    starts, sections = _sections(r, root)
    files: list[tuple[Path, str, Any, Marks]] = []
    for f in sorted(root.rglob("*.yaml")):
        if f.name in (SECTION_FILE, PACK_FILE):
            continue
        rel = f.relative_to(root).with_suffix("")
        dotted = ".".join(rel.parts)
        if not all(schema.CODE_RE.match(p) for p in rel.parts):
            r.add(f, 1, f"file and folder names must be lower_snake_case ({dotted})")
        if (read := r.read(f)) is not None:
            files.append((f, dotted, *read))
    # List parameters first: a table may take its keys from one.
    files.sort(key=lambda x: not (isinstance(x[2], dict) and x[2].get("unit") == "list"))
    params: dict[str, Parameter] = {}
    shapes: dict[str, Shape] = {}
    lists: dict[str, tuple[ListItem, ...]] = {}
    for f, dotted, data, marks in files:
        loaded = _parameter(r, f, dotted, data, marks, lists)
        if loaded is None:
            continue
        param, shapes[dotted] = loaded
        if param.kind is Kind.LIST and param.history:
            last = param.history[-1].value
            if isinstance(last, tuple):
                lists[dotted] = tuple(i for i in last if isinstance(i, ListItem))
        sec = _section_from(dotted, starts)
        if sec is not None and param.history and param.history[0].start > sec[1]:
            r.add(
                f,
                marks.line(()),
                f"gap before the first date: section {sec[0] or '(pack)'} is in force from {sec[1]}, "
                f"but this parameter's first value starts {param.history[0].start}",
            )
        params[dotted] = param
    unreadable = {dotted for _, dotted, _, _ in files} - set(params)
    names: list[str] = []
    reforms: list[Reform] = []
    for ov in overlays:
        overlay_name, reform = _apply_overlay(r, Path(ov), params, shapes, unreadable)
        names.append(overlay_name)
        if reform is not None:
            reforms.append(reform)
    _check_bounds(r, params)
    if r.defects:
        raise PackError(r.defects)
    return Pack(
        name=name,
        description=description,
        parameters=FrozenMap(sorted(params.items())),
        overlays=tuple(names),
        sections=FrozenMap(sections),
        reforms=tuple(reforms),
    )


def _apply_overlay(
    r: _Reader, file: Path, params: dict[str, Parameter], shapes: Mapping[str, Shape], unreadable: set[str]
) -> tuple[str, Reform | None]:
    """Apply one overlay to ``params``: its name, and the reform it declares (if it is one)."""
    read = r.read(file)
    if read is None:
        return file.stem, None
    data, marks = read
    found = r.valid(file, marks, partial(OverlayFile.model_validate, data))
    if found is None:
        values = data.get("values") if isinstance(data, dict) else None
        if not isinstance(values, dict):
            return file.stem, None
        # The file's other defects are reported; its values are checked too, so one run names them all.
        found = OverlayFile.model_construct(
            overlay=data.get("overlay") if isinstance(data.get("overlay"), str) else None,
            reform=data.get("reform") == "true",
            title=data.get("title") if isinstance(data.get("title"), str) else None,
            example=data.get("example") == "true",
            values=values,
        )
    name = found.overlay or file.stem
    reform = Reform(name, found.title, str(file)) if found.reform and found.title else None
    for path, raw in found.values.items():
        at: Loc = ("values", path)
        param = params.get(path)
        if param is None:
            if path not in unreadable:  # a broken parameter file is reported already
                r.add(file, marks.line((*at, KEY)), f"overlay sets {path!r}, which the pack does not declare")
            continue
        if not param.overlay_slot and reform is None:
            r.add(
                file,
                marks.line((*at, KEY)),
                f"{path} is a sourced policy value; an overlay may only set `overlay: true` parameters, "
                "unless it is a reform (`reform: true` with a `title`)",
            )
            continue
        shape = shapes[path]
        entries = r.valid(file, marks, partial(OVERLAY_ENTRIES.validate_python, raw, context={"shape": shape}), at)
        if not entries:
            continue
        history: list[DatedValue] = []
        for day, entry in entries.items():
            entry_at = (*at, day.isoformat())
            citation = Citation(
                source=entry.source or f"overlay:{name}",
                quote=entry.quote,
                url=entry.url,
                overlay=name,
                example=found.example,
                note=entry.note,
                file=str(file),
                line=marks.line(entry_at),
                reform=reform.title if reform else None,
            )
            value: Value | None = entry.read
            if entry.scale is not None:
                value = tuple(
                    replace(b.bracket(str(file), marks.line((*entry_at, "scale", i))), citation=None)
                    for i, b in enumerate(entry.scale)
                )
            history.append(DatedValue(day, value, citation))
        # A deployment's values are the slot's whole history; a reform's replace the pack's from its first date on.
        kept = tuple(dv for dv in param.history if dv.start < history[0].start) if reform else ()
        params[path] = replace(param, history=(*kept, *history))
    return name, reform


def _cells(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _cells(v)
    else:
        yield value


def _check_bounds(r: _Reader, params: Mapping[str, Parameter]) -> None:
    """Overlay values must stay inside the range the policy allows (e.g. 60% to 80%)."""
    for p in params.values():
        if not p.bounded_by:
            continue
        bound = params.get(p.bounded_by)
        if bound is None or bound.kind is not Kind.TABLE:
            r.add(Path(p.file), 1, f"bounded_by {p.bounded_by!r} is not a table parameter with min and max")
            continue
        for dv in p.history:
            b = bound.value_at(dv.start)
            if b is None or dv.value is None or not isinstance(b.value, Mapping):
                continue
            lo, hi = b.value.get("min"), b.value.get("max")
            for cell in _cells(dv.value):
                if cell is not None and not (lo <= cell <= hi):
                    r.defects.append(
                        Defect(
                            r.name(Path(dv.citation.file)),
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


def get_pack(name: str = "yunnan", *, extra: Iterable[Path] = ()) -> Pack:
    """The deployment's pack with its overlays (and ``extra`` ones after them, a reform say), loaded once per process."""
    return _cached(name, tuple(str(p) for p in [*default_overlays(), *extra]))
