"""``yibao institutions``: designated institutions from the server's command line (``--json`` for machines)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yibao.cli.common import err_console, exits_on_app_error, print_result
from yibao.core.auth import system_principal
from yibao.core.dates import parse_date
from yibao.core.unit import unit_of_work
from yibao.institutions import service
from yibao.institutions.schemas import CredentialsOut, institution_out

app = typer.Typer(help="定点医药机构 / designated institutions", no_args_is_help=True)
console = Console()
Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]


def _date(value: str | None, field: str) -> date | None:
    return parse_date(value, field=field) if value else None


def _credentials(out: CredentialsOut, as_json: bool) -> None:
    if as_json:
        print(out.model_dump_json(indent=2))
        return
    console.print(f"定点医药机构编码 code:   {out.code}")
    console.print(f"接入账号 paasid:         {out.paasid}")
    console.print(f"密钥 secret:             {out.secret}")
    err_console.print(
        "密钥只显示这一次，请配置到医院信息系统中 / the secret is shown only once: configure it in the HIS now"
    )


@app.command()
@exits_on_app_error
def add(
    code: Annotated[str, typer.Argument(help="12位定点医药机构编码，如 H53010000001")],
    name: str,
    kind: Annotated[str, typer.Option(help="hospital | community_health_center | pharmacy")],
    region: Annotated[str, typer.Option(help="统筹区代码 / pooling region, e.g. 530100")],
    level: Annotated[int | None, typer.Option(help="医院等级1-3；社区卫生服务中心默认1；药店无")] = None,
    designated_from: Annotated[str | None, typer.Option(help="定点起始日期，默认今天 / YYYY-MM-DD")] = None,
    designated_until: Annotated[str | None, typer.Option(help="定点终止日期（含）/ last designated day")] = None,
    paasid: Annotated[str | None, typer.Option(help="接入账号，默认 yb_<code> / app account")] = None,
    infcode_string: Annotated[
        bool, typer.Option("--infcode-string", help='infcode 以字符串 "0"/"-1" 应答 / answer infcode as a string')
    ] = False,
    as_json: Json = False,
) -> None:
    """登记定点医药机构，显示一次接入账号与密钥 / register an institution; prints its paasid and secret once."""
    with unit_of_work(principal=system_principal()) as s:
        row, secret = service.add(
            s,
            code=code,
            name=name,
            kind=kind,
            region=region,
            level=level,
            designated_from=_date(designated_from, "designated_from"),
            designated_until=_date(designated_until, "designated_until"),
            paasid=paasid,
            infcode_string=infcode_string,
        )
        out = CredentialsOut(code=row.code, paasid=row.paasid, secret=secret)
    _credentials(out, as_json)


@app.command("list")
@exits_on_app_error
def list_(
    region: Annotated[str | None, typer.Option(help="统筹区代码；默认全省 / pooling region, default all")] = None,
    kind: Annotated[str | None, typer.Option(help="hospital | community_health_center | pharmacy")] = None,
    as_json: Json = False,
) -> None:
    """定点医药机构列表 / list institutions."""
    with unit_of_work(principal=system_principal()) as s:
        rows = [institution_out(r) for r in service.list(s, region=region, kind=kind)]
    if as_json:
        print_result([r.model_dump(mode="json") for r in rows], True, console)
        return
    table = Table("编码 code", "名称 name", "类型 kind", "等级", "统筹区", "定点期限", "paasid", "状态")
    for r in rows:
        table.add_row(
            r.code,
            r.name,
            r.kind,
            str(r.level or ""),
            f"{r.region} {r.region_name}",
            f"{r.designated_from} ~ {r.designated_until or ''}",
            r.paasid,
            r.status if r.designated_today else f"{r.status}（今日非定点）",
        )
    console.print(table)


@app.command()
@exits_on_app_error
def show(code: str, as_json: Json = False) -> None:
    """查询定点医药机构 / show one institution."""
    with unit_of_work(principal=system_principal()) as s:
        out = institution_out(service.show(s, code))
    print_result(out.model_dump(mode="json"), as_json, console)


@app.command("rotate-secret")
@exits_on_app_error
def rotate_secret(code: str, as_json: Json = False) -> None:
    """重置密钥（旧密钥立即失效），显示一次 / a new secret, shown once (the old one stops at once)."""
    with unit_of_work(principal=system_principal()) as s:
        row, secret = service.rotate_secret(s, code)
        out = CredentialsOut(code=row.code, paasid=row.paasid, secret=secret)
    _credentials(out, as_json)


@app.command("end-designation")
@exits_on_app_error
def end_designation(
    code: str,
    on: Annotated[str | None, typer.Option(help="自该日起不再定点，默认今天 / not designated from this day")] = None,
    as_json: Json = False,
) -> None:
    """终止定点 / end the designation."""
    with unit_of_work(principal=system_principal()) as s:
        out = institution_out(service.end_designation(s, code, on=_date(on, "on")))
    print_result(out.model_dump(mode="json"), as_json, console)


@app.command()
@exits_on_app_error
def suspend(code: str, reason: Annotated[str, typer.Option(help="原因 / reason")], as_json: Json = False) -> None:
    """暂停医保服务 / suspend the institution's service."""
    with unit_of_work(principal=system_principal()) as s:
        out = institution_out(service.suspend(s, code, reason=reason))
    print_result(out.model_dump(mode="json"), as_json, console)


@app.command()
@exits_on_app_error
def reinstate(code: str, as_json: Json = False) -> None:
    """恢复医保服务 / lift a suspension."""
    with unit_of_work(principal=system_principal()) as s:
        out = institution_out(service.reinstate(s, code))
    print_result(out.model_dump(mode="json"), as_json, console)
