"""Shared CLI plumbing: errors printed in Chinese and English with a stable exit code."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from yibao.core.errors import AppError

err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def exits_on_app_error(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn an AppError into a red message on stderr and the error's exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except AppError as exc:
            err_console.print(f"[red]{exc.message_zh}[/red]")
            err_console.print(exc.message_en)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def print_result(data: Any, as_json: bool, console: Console) -> None:
    """Print a command's result: JSON for machines, aligned key/value lines for people."""
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif isinstance(data, list):
        for row in data:
            print_result(row, False, console)
    elif isinstance(data, dict):
        for k, v in data.items():
            console.print(f"{k:<20} {v}")
        console.print()
    else:
        console.print(data)


def print_model(
    data: BaseModel | Sequence[BaseModel],
    as_json: bool,
    console: Console,
    *,
    columns: Sequence[str] = (),
    exclude_unset: bool = False,
) -> None:
    """Print a typed result: its JSON form for machines; for people, a table of a list (``columns``, by
    default every field) or the fields of one result, one per line.

    ``exclude_unset`` leaves out what the result does not give, as an endpoint declared with
    ``response_model_exclude_unset`` does: the command prints the endpoint's JSON.
    """
    if isinstance(data, BaseModel):
        dumped = data.model_dump(mode="json", exclude_unset=exclude_unset)
        if as_json:
            print(json.dumps(dumped, ensure_ascii=False, indent=2))
            return
        for k, v in dumped.items():
            console.print(f"{k:<20} {_cell(v)}", markup=False)  # names and reasons are text, not markup
        console.print()
        return
    rows = [m.model_dump(mode="json", exclude_unset=exclude_unset) for m in data]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("（无 / none）")
        return
    table = Table(*(columns or rows[0].keys()))
    for row in rows:
        table.add_row(*(Text(_cell(row[c])) for c in (columns or row.keys())))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def new_idempotency_key() -> str:
    """A fresh idempotency key for a command that moves money, shown so that a retry can reuse it."""
    import uuid

    key = f"cli-{uuid.uuid4().hex}"
    err_console.print(f"幂等键 idempotency key: {key}（重试时用 --idempotency-key 传入 / pass it again to retry）")
    return key
