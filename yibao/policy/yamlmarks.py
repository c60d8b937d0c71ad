"""YAML read into plain data, with the line of every node, so that each defect can name its file and line.

The YAML is composed into nodes (which carry their marks) and turned into dicts, lists and strings: a
plain (unquoted) scalar becomes :class:`Plain` text, the only form a number may take in a pack (a quoted
``"1,000"`` is text, never a number), a quoted or block scalar plain ``str``, an empty or ``null``
scalar ``None``. Numbers are never converted here: the schema reads them exactly, by unit.

:class:`Marks` maps each location (the path of keys and indexes a validation error reports) to the line
of its node, and of its key for mapping entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml's parser, where PyYAML was built with it, composes the same nodes (with their lines) about ten
# times faster: it is most of the start-up of a one-claim ``yibao calc``.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]
KEY = "[key]"  # a location ending in this names a mapping key rather than its value (as Pydantic's do)


class Plain(str):
    """The text of a plain (unquoted) YAML scalar."""

    __slots__ = ()


@dataclass
class Marks:
    """Lines (1-based) of the nodes of one file, by location."""

    values: dict[Loc, int] = field(default_factory=dict)
    keys: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int:
        """The line of the node at ``loc`` (of its key when ``loc`` ends in ``[key]``), else of its nearest parent."""
        if loc and loc[-1] == KEY:
            loc = loc[:-1]
            if loc in self.keys:
                return self.keys[loc]
        while loc and loc not in self.values:
            loc = loc[:-1]
        return self.values.get(loc, 1)


@dataclass(frozen=True, slots=True)
class Problem:
    """A defect found while reading: where and what."""

    line: int
    message: str


def read(path: Path, loader: type[yaml.SafeLoader] = LOADER) -> tuple[Any, Marks, list[Problem]]:
    """The file's data, the lines of its nodes and what is wrong with its text (data None if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, Marks(), [Problem(1, "not UTF-8 text")]
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        return None, Marks(), [Problem(mark.line + 1 if mark is not None else 1, f"YAML syntax: {exc.problem}")]
    marks = Marks()
    problems: list[Problem] = []
    if root is None:
        marks.values[()] = 1
        return None, marks, problems
    return _data(root, (), marks, problems), marks, problems


def _data(node: Node, loc: Loc, marks: Marks, problems: list[Problem]) -> Any:
    marks.values[loc] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for k, v in node.value:
            if not isinstance(k, ScalarNode):
                problems.append(Problem(k.start_mark.line + 1, "keys must be plain words"))
                continue
            key = str(k.value)
            if key in out:
                # A repeated key would silently replace the first one.
                what = "date" if _looks_like_date(key) else "key"
                problems.append(Problem(k.start_mark.line + 1, f"duplicate {what} {key}"))
                continue
            marks.keys[(*loc, key)] = k.start_mark.line + 1
            out[key] = _data(v, (*loc, key), marks, problems)
        return out
    if isinstance(node, SequenceNode):
        return [_data(v, (*loc, i), marks, problems) for i, v in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    if node.style:  # quoted or block: text (libyaml marks a plain scalar with style "", PyYAML with None)
        return str(node.value)
    if node.tag.endswith(":null"):
        return None
    return Plain(node.value)


def _looks_like_date(key: str) -> bool:
    return len(key) == 10 and key[4] == key[7] == "-" and (key[:4] + key[5:7] + key[8:]).isdigit()
