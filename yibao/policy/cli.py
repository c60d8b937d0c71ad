"""``yibao policy``: read the policy pack (value on a date, history, source) and check it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from yibao.cli.common import exits_on_app_error
from yibao.core import clock
from yibao.core.dates import parse_date
from yibao.policy import service

app = typer.Typer(help="政策参数：查看与校验 / policy parameters: read and check", no_args_is_help=True)
console = Console()


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(
            (f"{v.get('name', '')}" if "name" in v else f">{v['threshold']}: {v['rate']}")
            if isinstance(v, dict)
            else str(v)
            for v in value
        )
    return "—" if value is None else str(value)


@app.command()
@exits_on_app_error
def show(
    path: Annotated[str | None, typer.Argument(help="参数路径，如 resident.premium.individual / dotted path")] = None,
    on: Annotated[str | None, typer.Option("--date", help="日期 YYYY-MM-DD，默认今天 / date, default today")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """查看参数在某日的取值、历史和出处 / show a parameter's value on a date, its history and source."""
    day = parse_date(on, field="date") if on else clock.today()
    found = service.show(path, day)
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    elif isinstance(found, dict):
        _print_one(found)
    else:
        _print_tree(found, day)


def _print_one(p: dict[str, Any]) -> None:
    console.print(f"[bold]{p['path']}[/bold]  {p['description']}  （单位 unit: {p['unit']}）")
    console.print(
        f"{p['date']} 的取值 value: [bold green]{_text(p['value'])}[/bold green]  自 from {p['effective_from']}"
    )
    table = Table("自 from", "取值 value", "出处 source", "原文 quote / 说明 note")
    for h in p["history"]:
        flag = (
            "（假定 assumed）"
            if h.get("assumed")
            else "（改革 reform）"
            if h.get("reform")
            else ("（覆盖 overlay）" if h.get("overlay") else "")
        )
        table.add_row(
            h["from"], _text(h["value"]), (h.get("source") or "") + flag, h.get("quote") or h.get("note") or ""
        )
    console.print(table)


def _print_tree(items: list[dict[str, Any]], day: date) -> None:
    root = Tree(f"政策参数 policy parameters @ {day.isoformat()}")
    nodes: dict[str, Tree] = {}
    for p in items:
        parts = p["path"].split(".")
        parent = root
        for i in range(len(parts) - 1):
            key = ".".join(parts[: i + 1])
            if key not in nodes:
                nodes[key] = parent.add(f"[bold]{parts[i]}[/bold]")
            parent = nodes[key]
        flag = ""
        if p["citation"] and p["citation"].get("assumed"):
            flag = " [yellow]（假定）[/yellow]"
        elif p["citation"] and p["citation"].get("reform"):
            flag = " [magenta]（改革）[/magenta]"
        elif p["citation"] and p["citation"].get("overlay"):
            flag = " [cyan]（覆盖）[/cyan]"
        parent.add(f"{parts[-1]} = [green]{_text(p['value'])}[/green]{flag}  [dim]{p['description']}[/dim]")
    console.print(root)


@app.command()
def check(
    overlay: Annotated[
        list[Path] | None,
        typer.Option(
            "--overlay", help="覆盖文件（部署或改革方案），可多次指定，按顺序叠加 / overlay file(s), applied in order"
        ),
    ] = None,
) -> None:
    """校验参数包：格式、日期、出处原文 / validate the pack: format, dates, verbatim quotes.

    Every defect is printed as ``file:line: message``, one a line.
    """
    pack, defects = service.check(overlay)
    if defects:
        for d in defects:
            # Plain lines (no wrapping, no markup): editors and CI jump to file:line.
            console.print(str(d), style="red", markup=False, highlight=False, soft_wrap=True)
        console.print(f"{len(defects)} 处错误 / defect(s)", style="red")
        raise typer.Exit(2)
    assert pack is not None
    values = [h.citation for p in pack.parameters.values() for h in p.history]
    cited = sum(1 for c in values if not c.assumed and c.overlay is None)
    assumed = sum(1 for c in values if c.assumed)
    reforms = "; ".join(f"{r.name}（{r.title}）" for r in pack.reforms) or "—"
    console.print(
        f"[green]参数包 {pack.name} 校验通过 / pack is valid[/green]: {len(pack.parameters)} 个参数 parameters, "
        f"{cited} 条有出处 cited, {assumed} 条假定 assumed, 覆盖 overlays: {', '.join(pack.overlays) or '—'}, "
        f"改革 reforms: {reforms}",
        markup=True,
        highlight=False,
    )
