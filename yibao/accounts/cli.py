"""``yibao accounts``: ledger checks."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from yibao.accounts import ledger
from yibao.cli.common import exits_on_app_error
from yibao.core.db import unit_of_work

app = typer.Typer(help="个人账户 / personal accounts", no_args_is_help=True)
console = Console()


@app.command()
@exits_on_app_error
def verify(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False) -> None:
    """核对账簿：余额等于分录合计、分录借贷平衡、总额为零 / check the ledger."""
    with unit_of_work() as s:
        v = ledger.verify(s)
    if as_json:
        print(
            json.dumps(
                {"ok": v.ok, "accounts": v.accounts, "entries": v.entries, "total": v.total, "problems": v.problems},
                ensure_ascii=False,
            )
        )
    elif v.ok:
        console.print(
            f"[green]账簿平衡 / ledger balanced[/green]: {v.accounts} 个账户 accounts, {v.entries} 笔分录 entries"
        )
    else:
        for p in v.problems:
            console.print(f"[red]{p}[/red]")
    if not v.ok:
        raise typer.Exit(6)
