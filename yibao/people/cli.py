"""``yibao people``: enrolment and queries from the command line (``--json`` for machines)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from yibao.cli.common import exits_on_app_error, print_model
from yibao.core.auth import system_principal
from yibao.core.clock import today
from yibao.core.dates import parse_date
from yibao.core.unit import unit_of_work
from yibao.people import enrolment, persons, records, relations
from yibao.people.models import Relation, Scheme, Status
from yibao.people.schemas import PersonOut

app = typer.Typer(help="参保人与参保登记 / people and enrolment", no_args_is_help=True)
console = Console()

Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
On = Annotated[str | None, typer.Option("--on", help="登记日期，默认今天 / date, default today")]


def _day(on: str | None) -> date:
    return parse_date(on, field="on") if on else today()


def _show(p: PersonOut, as_json: bool) -> None:
    if as_json:
        print_model(p, True, console)
        return
    console.print(Text(f"{p.name}  {p.id_number}  {p.sex}  {p.birth_date}  {p.phone or ''}", style="bold"))
    table = Table("险种 scheme", "状态 status", "统筹区 region", "人群 group", "待遇起始 benefits from", "单位/学校")
    for r in p.records:
        table.add_row(
            r.scheme,
            r.status,
            f"{r.region_code} {r.region_name}",
            r.population_group,
            str(r.benefits_from),
            Text(r.employer or r.school or ""),
        )
    console.print(table)


@app.command("register-resident")
@exits_on_app_error
def register_resident(
    id_number: Annotated[str, typer.Option(help="身份证号 / ID number")],
    name: Annotated[str, typer.Option(help="姓名 / name")],
    region: Annotated[str, typer.Option(help="统筹区代码 / pooling region, e.g. 530100")],
    phone: Annotated[str | None, typer.Option(help="手机号 / mobile")] = None,
    on_behalf_by: Annotated[str | None, typer.Option(help="代办人身份证号 / registering for someone else")] = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """城乡居民参保登记 / register a resident."""
    with unit_of_work(principal=system_principal()) as s:
        p = enrolment.register_resident(
            s, id_number=id_number, name=name, region=region, phone=phone, on_behalf_by=on_behalf_by, on=_day(on)
        )
    _show(p, as_json)


@app.command("register-student")
@exits_on_app_error
def register_student(
    id_number: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    school: Annotated[str, typer.Option(help="省属在昆高校 / university")],
    accept_commitment: Annotated[bool, typer.Option("--accept-commitment", help="同意《参保承诺书》")] = False,
    on: On = None,
    as_json: Json = False,
) -> None:
    """省属在昆高校大学生参保 / register a student."""
    with unit_of_work(principal=system_principal()) as s:
        p = enrolment.register_student(
            s, id_number=id_number, name=name, school=school, commitment_accepted=accept_commitment, on=_day(on)
        )
    _show(p, as_json)


@app.command("register-newborn")
@exits_on_app_error
def register_newborn(
    id_number: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    guardian: Annotated[str, typer.Option(help="监护人身份证号 / guardian's ID number")],
    region: Annotated[str, typer.Option()],
    on: On = None,
    as_json: Json = False,
) -> None:
    """新生儿参保 / register a newborn."""
    with unit_of_work(principal=system_principal()) as s:
        p = enrolment.register_newborn(
            s, id_number=id_number, name=name, guardian_id_number=guardian, region=region, on=_day(on)
        )
    _show(p, as_json)


@app.command("enrol-employee")
@exits_on_app_error
def enrol_employee(
    id_number: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option()],
    employer: Annotated[str | None, typer.Option(help="用人单位 / employer")] = None,
    flexible: Annotated[bool, typer.Option("--flexible", help="灵活就业人员 / flexible worker")] = False,
    on: On = None,
    as_json: Json = False,
) -> None:
    """职工医保参保 / enrol an employee."""
    with unit_of_work(principal=system_principal()) as s:
        p = enrolment.enrol_employee(
            s, id_number=id_number, name=name, region=region, employer=employer, flexible=flexible, on=_day(on)
        )
    _show(p, as_json)


@app.command()
@exits_on_app_error
def show(id_number: str, as_json: Json = False) -> None:
    """查询参保人及参保记录 / show a person and their records."""
    with unit_of_work(principal=system_principal()) as s:
        p = persons.view_person(s, id_number)
    _show(p, as_json)


@app.command()
@exits_on_app_error
def status(
    id_number: str,
    scheme: Annotated[Scheme, typer.Option()],
    to: Annotated[Status, typer.Option()],
    reason: Annotated[str, typer.Option()],
    actor: Annotated[str, typer.Option(help="经办人 / clerk")] = "agency",
    as_json: Json = False,
) -> None:
    """暂停、恢复或终止参保 / suspend, resume or terminate."""
    with unit_of_work(principal=system_principal()) as s:
        p = records.change_status(s, id_number=id_number, scheme=scheme, to=to, reason=reason, actor=actor)
    _show(p, as_json)


@app.command()
@exits_on_app_error
def move(
    id_number: str,
    scheme: Annotated[Scheme, typer.Option()],
    region: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()] = "",
    as_json: Json = False,
) -> None:
    """转移经办机构 / move to another pooling region's agency."""
    with unit_of_work(principal=system_principal()) as s:
        p = records.move_agency(s, id_number=id_number, scheme=scheme, region=region, reason=reason, actor="agency")
    _show(p, as_json)


@app.command()
@exits_on_app_error
def relate(id_number: str, relative: str, relation: Annotated[Relation, typer.Option()], as_json: Json = False) -> None:
    """登记亲属关系：RELATIVE 是 ID_NUMBER 的 <relation> / declare a relative."""
    with unit_of_work(principal=system_principal()) as s:
        out = relations.declare_relation(s, id_number=id_number, relative_id_number=relative, relation=relation)
    print_model(out.relatives, as_json, console)


@app.command()
@exits_on_app_error
def relatives(id_number: str, as_json: Json = False) -> None:
    """亲属关系 / relatives."""
    with unit_of_work(principal=system_principal()) as s:
        rows = relations.list_relatives(s, id_number)
    print_model(rows, as_json, console)
