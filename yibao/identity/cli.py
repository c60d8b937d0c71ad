"""``yibao auth``: staff and client logins, persons' passwords, and the audit log (the server's operator)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from yibao.cli.common import exits_on_app_error, print_model
from yibao.core import audit
from yibao.core.auth import system_principal
from yibao.core.dates import parse_date
from yibao.core.unit import unit_of_work
from yibao.identity import logins

app = typer.Typer(help="登录账号与审计 / logins and audit", no_args_is_help=True)
console = Console()
Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
# The columns of the audit log on screen; --json gives every field.
AUDIT_COLUMNS = ("at", "actor_role", "actor", "action", "subject", "outcome", "ip", "path")


def _password(given: str | None, env: str) -> str:
    """A password from the option, the environment variable, or a hidden prompt (never echoed)."""
    if given:
        return given
    if os.environ.get(env):
        return os.environ[env]
    value: str = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    return value


@app.command("create-staff")
@exits_on_app_error
def create_staff(
    username: str,
    name: str,
    role: Annotated[str, typer.Option(help="clerk | appraiser | finance | auditor | admin")],
    region: Annotated[str, typer.Option(help="统筹区代码 / pooling region, 530000 = the province")],
    password: Annotated[str | None, typer.Option(help="默认读取 YIBAO_PASSWORD 或提示输入")] = None,
    as_json: Json = False,
) -> None:
    """开设工作人员账号 / create a staff login."""
    with unit_of_work(principal=system_principal()) as s:
        staff = logins.create_staff(
            s, username=username, name=name, role=role, region=region, password=_password(password, "YIBAO_PASSWORD")
        )
    print_model(staff, as_json, console)


@app.command("create-client")
@exits_on_app_error
def create_client(
    kind: Annotated[str, typer.Argument(help="institution | service")],
    code: str,
    name: str,
    region: Annotated[str, typer.Option(help="统筹区代码 / pooling region")],
    as_json: Json = False,
) -> None:
    """开设定点机构或批处理接入并签发 API 密钥（仅显示一次）/ create an institution or service and its key."""
    with unit_of_work(principal=system_principal()) as s:
        client = logins.create_client(s, kind=kind, code=code, name=name, region=region)
    print_model(client, as_json, console)


@app.command("set-password")
@exits_on_app_error
def set_password(
    id_number: str,
    password: Annotated[str | None, typer.Option(help="默认读取 YIBAO_PASSWORD 或提示输入")] = None,
) -> None:
    """设置参保人登录密码 / set a person's password."""
    with unit_of_work(principal=system_principal()) as s:
        logins.set_person_password(s, id_number=id_number, new_password=_password(password, "YIBAO_PASSWORD"))
    console.print("[green]已设置 / set[/green]")


@app.command("audit")
@exits_on_app_error
def audit_log(
    actor: Annotated[str | None, typer.Option(help="操作人 / actor")] = None,
    subject: Annotated[str | None, typer.Option(help="被查询人身份证号 / subject's ID number")] = None,
    action: Annotated[str | None, typer.Option(help="业务 / action, e.g. accounts.read")] = None,
    outcome: Annotated[str | None, typer.Option(help="ok | denied | failed")] = None,
    start: Annotated[str | None, typer.Option(help="起始日期 / from")] = None,
    end: Annotated[str | None, typer.Option(help="截止日期 / to")] = None,
    page: int = 1,
    as_json: Json = False,
) -> None:
    """查询审计日志 / read the audit log."""
    with unit_of_work(principal=system_principal()) as s:
        found = audit.search(
            s,
            actor=actor,
            subject_id_number=subject,
            action=action,
            outcome=outcome,
            start=parse_date(start, field="start") if start else None,
            end=parse_date(end, field="end") if end else None,
            page=page,
        )
    if as_json:
        print_model(found, True, console)
        return
    print_model(found.items, False, console, columns=AUDIT_COLUMNS)
    if found.has_more:
        console.print(f"更多记录见 --page {page + 1} / more on --page {page + 1}")
