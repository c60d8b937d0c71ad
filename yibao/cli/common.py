"""Shared CLI plumbing: errors printed in Chinese and English with a stable exit code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

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
