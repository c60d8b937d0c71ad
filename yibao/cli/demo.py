"""``yibao demo``: the demo population."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from yibao import demo
from yibao.cli.common import exits_on_app_error
from yibao.core import migrate
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work

app = typer.Typer(help="演示数据 / demo data", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
@exits_on_app_error
def seed() -> None:
    """生成演示人群（已生成则跳过）/ create the demo population (once)."""
    migrate.upgrade()
    with unit_of_work(principal=system_principal()) as s:
        ids = demo.seed(s)
        key = s.info.get("demo_institution_key")
        institutions = demo.seed_institutions(s)
        catalogue = s.info["demo_catalogue"]
    console.print(
        f"演示医保目录 / demo catalogue: {catalogue.rows} 行 rows, 新增 added {catalogue.added}, "
        f"未变 unchanged {catalogue.unchanged}"
    )
    _print_institutions(institutions)
    if not ids:
        console.print("演示数据已存在 / demo data already present")
        return
    table = Table("姓名 name", "身份证号 ID number")
    for _household, _region, members, _rel in demo.FAMILIES:
        for m in members:
            table.add_row(m.name, ids[m.key])
    console.print(table)
    # The demo persons are fictional: their full ID numbers are shown so that they can be looked up.
    console.print(f"[green]{len(ids)} 名演示参保人已生成 / demo persons created[/green]")
    staff = ", ".join(f"{u} ({role})" for u, _n, role, _r in demo.DEMO_STAFF)
    console.print(f"演示登录 / demo logins: 参保人用身份证号 persons by ID number; 工作人员 staff: {staff}")
    console.print(f"演示密码 / demo password: {demo.DEMO_PASSWORD}")
    code, name, _region = demo.DEMO_INSTITUTION
    console.print(f"演示定点机构 / demo institution {code} {name}, API key: {key}")


def _print_institutions(institutions: list[demo.InstitutionCredentials]) -> None:
    """The demo institutions' credentials for the national interface (fictional, demo only)."""
    console.print("演示定点医药机构（国家接口 /fsi）/ demo institutions for the national interface:")
    console.print("  code          paasid            secret                            region  name", soft_wrap=True)
    for i in institutions:
        console.print(f"  {i.code}  {i.paasid:<16}  {i.secret:<32}  {i.region}  {i.name}", soft_wrap=True)
