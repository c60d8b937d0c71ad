"""``yibao accounts``: ledger checks."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from yibao.accounts import service
from yibao.cli.common import exits_on_app_error, new_idempotency_key, print_result
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.dates import parse_date
from yibao.core.money import format_yuan, parse_yuan
from yibao.core.unit import unit_of_work
from yibao.people.models import Relation

app = typer.Typer(help="个人账户 / personal accounts", no_args_is_help=True)
console = Console()


@app.command()
@exits_on_app_error
def verify(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False) -> None:
    """核对账簿：余额等于分录合计、分录借贷平衡、总额为零 / check the ledger."""
    with unit_of_work(principal=system_principal()) as s:
        v = service.verify_ledger(s)
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


Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
Key = Annotated[str, typer.Option("--idempotency-key", help="幂等键 / idempotency key")]
NewKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key", help="幂等键，重试时保持不变（缺省时生成并显示）/ retry key (made and shown if absent)"
    ),
]
Source = Annotated[str, typer.Option("--source", help="发起系统 / calling system")]


def _out(data: Any, as_json: bool) -> None:
    print_result(data, as_json, console)


@app.command()
@exits_on_app_error
def balance(id_number: str, as_json: Json = False) -> None:
    """账户余额 / balance."""
    with unit_of_work(principal=system_principal()) as s:
        _out(service.balance(s, id_number), as_json)


@app.command()
@exits_on_app_error
def records(
    id_number: str,
    kind: Annotated[str, typer.Option(help="all | spending | transfers_in | proxy")] = "all",
    start: Annotated[str | None, typer.Option(help="起始日期 / from")] = None,
    end: Annotated[str | None, typer.Option(help="截止日期 / to")] = None,
    page: int = 1,
    per_page: int = 20,
    as_json: Json = False,
) -> None:
    """消费、划入、代缴记录 / account records."""
    with unit_of_work(principal=system_principal()) as s:
        _out(
            service.statement(
                s,
                id_number,
                kind=kind,
                start=parse_date(start, field="start") if start else None,
                end=parse_date(end, field="end") if end else None,
                page=page,
                per_page=per_page,
            ),
            as_json,
        )


@app.command()
@exits_on_app_error
def credit(
    id_number: str, amount: str, period: str, key: Key, source: Source = "agency", as_json: Json = False
) -> None:
    """资金划入 / credit a contribution (AMOUNT in yuan, PERIOD as YYYY-MM)."""
    with unit_of_work(principal=system_principal()) as s:
        _out(
            service.credit_contribution(
                s, id_number=id_number, amount=parse_yuan(amount, field="amount"), period=period, source=source, key=key
            ),
            as_json,
        )


@app.command()
@exits_on_app_error
def pay(
    id_number: str,
    amount: str,
    category: Annotated[str, typer.Option(help="支出类别，如 designated_pharmacy / category")],
    institution: Annotated[str, typer.Option(help="定点机构 / institution")],
    key: Key,
    source: Source = "agency",
    beneficiary: Annotated[str | None, typer.Option(help="使用人（已绑定的近亲属）/ bound relative")] = None,
    as_json: Json = False,
) -> None:
    """个人账户支付 / pay from the account."""
    with unit_of_work(principal=system_principal()) as s:
        p = service.Payment(id_number, parse_yuan(amount, field="amount"), category, institution, beneficiary)
        _out(service.pay(s, p, source=source, key=key), as_json)


@app.command()
@exits_on_app_error
def bind(
    id_number: str,
    relative: str,
    relation: Annotated[Relation, typer.Option()],
    sign_commitment: Annotated[
        bool, typer.Option("--sign-commitment", help="签署承诺书 / sign the commitment")
    ] = False,
    channel: str = "yunnan_yibao_miniapp",
    as_json: Json = False,
) -> None:
    """共济绑定 / let a close relative use the account."""
    with unit_of_work(principal=system_principal()) as s:
        service.bind(
            s,
            holder_id_number=id_number,
            relative_id_number=relative,
            relation=relation,
            commitment_signed=sign_commitment,
            channel=channel,
        )
        _out(service.bindings_of(s, id_number), as_json)


@app.command()
@exits_on_app_error
def unbind(
    id_number: str,
    relative: str,
    channel: str = "yunnan_yibao_miniapp",
    clerk: Annotated[str | None, typer.Option(help="经办人（线下）/ clerk at the agency")] = None,
    proof: Annotated[str | None, typer.Option(help="关系证明材料 / proof of relation")] = None,
    as_json: Json = False,
) -> None:
    """解除绑定 / end a binding."""
    with unit_of_work(principal=system_principal()) as s:
        service.unbind(
            s, holder_id_number=id_number, relative_id_number=relative, channel=channel, clerk=clerk, proof=proof
        )
        _out(service.bindings_of(s, id_number), as_json)


@app.command()
@exits_on_app_error
def bindings(id_number: str, as_json: Json = False) -> None:
    """共济授权记录 / binding records."""
    with unit_of_work(principal=system_principal()) as s:
        _out(service.bindings_of(s, id_number), as_json)


@app.command("cross-region-bindings")
@exits_on_app_error
def cross_region_bindings(as_json: Json = False) -> None:
    """列出跨统筹区的有效共济绑定（须解除）/ active bindings across pooling regions (to be ended)."""
    with unit_of_work(principal=system_principal()) as s:
        rows = service.cross_region_bindings(s)
    if rows or as_json:
        _out(rows, as_json)
    else:
        console.print("没有跨统筹区的共济绑定 / no binding crosses pooling regions")


@app.command("relative-premium")
@exits_on_app_error
def relative_premium(
    id_number: str, relative: str, relative_name: str, year: int, key: Key, as_json: Json = False
) -> None:
    """为近亲属缴纳居民医保费 / pay a bound relative's resident premium from the account."""
    with unit_of_work(principal=system_principal()) as s:
        _out(
            service.pay_relative_premium(
                s,
                holder_id_number=id_number,
                relative_id_number=relative,
                relative_name=relative_name,
                year=year,
                key=key,
                now=clock.now(),
            ),
            as_json,
        )


@app.command()
@exits_on_app_error
def insure(
    id_number: str,
    insured: str,
    product: str,
    shares: int = 1,
    key: NewKey = None,
    as_json: Json = False,
) -> None:
    """购买重大疾病商业补充保险 / buy critical-illness insurance shares."""
    key = key or new_idempotency_key()
    with unit_of_work(principal=system_principal()) as s:
        _out(
            service.purchase_insurance(
                s,
                holder_id_number=id_number,
                insured_id_number=insured,
                product=product,
                shares=shares,
                key=key,
                source="cli",
                now=clock.now(),
            ),
            as_json,
        )


@app.command()
@exits_on_app_error
def withdraw(
    id_number: str,
    case: str,
    document: Annotated[list[str], typer.Option("--document", help="提交的材料，可多次 / documents handed in")],
    heir: Annotated[str | None, typer.Option(help="继承人 / heir")] = None,
    as_json: Json = False,
) -> None:
    """提取申请 / apply to withdraw in a special case."""
    with unit_of_work(principal=system_principal()) as s:
        r = service.apply_withdrawal(s, holder_id_number=id_number, case=case, documents=document, heir_id_number=heir)
        _out({"request_id": r.id, "status": r.status}, as_json)


@app.command()
@exits_on_app_error
def decide(
    request_id: int,
    clerk: str,
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    note: str = "",
    as_json: Json = False,
) -> None:
    """审核提取申请 / decide a withdrawal."""
    with unit_of_work(principal=system_principal()) as s:
        r = service.decide_withdrawal(s, request_id=request_id, approve=approve, clerk=clerk, note=note)
        _out({"request_id": r.id, "status": r.status, "amount": format_yuan(r.amount or 0)}, as_json)
