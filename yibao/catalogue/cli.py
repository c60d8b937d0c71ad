"""``yibao catalogue``: import the medical catalogue, look an item up, list a page (``--json`` for machines)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao.catalogue import service
from yibao.catalogue.models import ChargeClass, ListType
from yibao.catalogue.schemas import CatalogueItemOut, CataloguePage, item_out
from yibao.cli.common import exits_on_app_error
from yibao.core.auth import system_principal
from yibao.core.clock import today
from yibao.core.dates import parse_date
from yibao.core.unit import unit_of_work

app = typer.Typer(help="医保目录 / medical catalogue", no_args_is_help=True)
console = Console()
progress_console = Console(stderr=True)

Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
Day = Annotated[str | None, typer.Option("--date", help="日期 yyyy-MM-dd，默认今天 / date, default today")]


def _day(on: str | None) -> date:
    return parse_date(on, field="date") if on else today()


@app.command("import")
@exits_on_app_error
def import_catalogue(
    file: Annotated[Path, typer.Argument(help="目录文件 .csv（UTF-8）或 .xlsx / catalogue file")],
    as_json: Json = False,
) -> None:
    """导入医保目录文件（有错行则整体不导入）/ import a catalogue file (all or nothing)."""
    with (
        Progress(
            TextColumn("校验 checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=progress_console,
            transient=True,
        ) as progress,
        unit_of_work(principal=system_principal()) as s,
    ):
        task = progress.add_task("check", total=None)
        report = service.import_file(
            s, file, on_progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    console.print(
        f"[green]{report.file}：{report.rows} 行，{report.codes} 个编码[/green] / rows, codes\n"
        f"新增版本 added {report.added}，变更 updated {report.updated}，"
        f"截止旧版本 closed {report.closed}，未变 unchanged {report.unchanged}"
    )


def _show(item: CatalogueItemOut) -> None:
    console.print(f"[bold]{item.med_list_codg}[/bold]  {item.name}")
    for label, value in (
        ("目录类别 list_type", f"{item.list_type} {item.list_type_name}"),
        ("收费等级 chrgitm_lv", f"{item.chrgitm_lv} {item.chrgitm_lv_name}"),
        ("收费类别 med_chrgitm_type", f"{item.med_chrgitm_type} {item.med_chrgitm_type_name}"),
        ("最高限价 pric_uplmt_amt", item.pric_uplmt_amt or "无 none"),
        ("有效期 dates", f"{item.begndate} – {item.enddate or ''}"),
        ("限制使用 lmt_used_flag", item.lmt_used_flag),
        ("基本药物 bas_medn_flag", item.bas_medn_flag),
        ("谈判药品 hi_nego_drug_flag", item.hi_nego_drug_flag),
        ("儿童用药 chld_medc_flag", item.chld_medc_flag),
        ("目录特项 list_sp_item_flag", item.list_sp_item_flag),
        ("直接报销 drt_reim_flag", item.drt_reim_flag),
        ("更新时间 updt_time", item.updt_time),
    ):
        console.print(f"{label:<28} {value}")
    if len(item.versions) > 1:
        table = Table("开始 begin", "结束 end", "等级 class", "限价 ceiling", "名称 name", title="历次版本 / versions")
        for v in item.versions:
            table.add_row(str(v.begndate), str(v.enddate or ""), v.chrgitm_lv, v.pric_uplmt_amt or "", v.name)
        console.print(table)


@app.command()
@exits_on_app_error
def show(
    code: Annotated[str, typer.Argument(help="医保目录编码 / catalogue code")], on: Day = None, as_json: Json = False
) -> None:
    """查询某日有效的目录条目 / the item in force on a day, with its versions."""
    with unit_of_work(principal=system_principal()) as s:
        item, versions = service.show_item(s, code=code, on=_day(on))
        out = item_out(item, versions)
    if as_json:
        print(out.model_dump_json(indent=2))
    else:
        _show(out)


def _list(page: CataloguePage) -> None:
    table = Table()
    # Nothing is cut short: on a narrow terminal long codes and names fold onto a second line.
    table.add_column("编码\ncode", overflow="fold")
    table.add_column("名称\nname", min_width=8, overflow="fold")
    for title in ("类别\ntype", "等级\nclass", "限价\nceiling"):
        table.add_column(title, no_wrap=True)
    table.add_column("有效期\ndates", no_wrap=True)
    for r in page.data:
        dates = f"{r.begndate} –" + (f"\n{r.enddate}" if r.enddate else "")
        table.add_row(r.hilist_code, r.hilist_name, r.list_type, r.chrgitm_lv, r.pric_uplmt_amt or "", dates)
    console.print(table)
    console.print(f"第 {page.pageNum}/{page.pages} 页，共 {page.recordCounts} 条 / page, rows in all")


@app.command("list")
@exits_on_app_error
def list_items(
    list_type: Annotated[ListType | None, typer.Option("--type", help="目录类别 / list type")] = None,
    charge_class: Annotated[ChargeClass | None, typer.Option("--class", help="01 甲 / 02 乙 / 03 丙")] = None,
    on: Day = None,
    page: Annotated[int, typer.Option("--page", help="页码 / page, from 1")] = 1,
    size: Annotated[int, typer.Option("--size", help="每页条数 / rows per page")] = 50,
    as_json: Json = False,
) -> None:
    """列出某日有效的目录条目（分页）/ list the items in force on a day, a page at a time."""
    with unit_of_work(principal=system_principal()) as s:
        result = service.query(s, on=_day(on), page=page, size=size, list_type=list_type, chrgitm_lv=charge_class)
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        _list(result)
