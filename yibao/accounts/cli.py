"""``yibao accounts``: balances, records, credits, payments, bindings, insurance, withdrawals, ledger checks.

Every command prints what the service answers: ``--json`` gives the same JSON as the API, otherwise
the same fields as aligned lines and tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from yibao.accounts import balances, insurance, payments, sharing, withdrawals
from yibao.accounts.models import Channel
from yibao.accounts.schemas import RecordKind
from yibao.cli.common import exits_on_app_error, new_idempotency_key
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.dates import parse_date
from yibao.core.money import parse_yuan
from yibao.core.unit import unit_of_work
from yibao.people.models import Relation

app = typer.Typer(help="个人账户 / personal accounts", no_args_is_help=True)
console = Console()

Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
Key = Annotated[str, typer.Option("--idempotency-key", help="幂等键 / idempotency key")]
NewKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key", help="幂等键，重试时保持不变（缺省时生成并显示）/ retry key (made and shown if absent)"
    ),
]
Source = Annotated[str, typer.Option("--source", help="发起系统 / calling system")]


def _label(model: type[BaseModel], name: str) -> str:
    title = model.model_fields[name].title
    return f"{title} {name}" if title else name


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, BaseModel):
        return " ".join(_cell(v) for v in value.model_dump(mode="json").values())
    if isinstance(value, list):
        return "、".join(_cell(v) for v in value)
    return str(value)


def _table(rows: Sequence[BaseModel]) -> None:
    if not rows:
        console.print("无记录 / none")
        return
    model = type(rows[0])
    table = Table()
    for name in model.model_fields:
        table.add_column(_label(model, name), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(getattr(row, name)) for name in model.model_fields))
    console.print(table)


def _show(data: BaseModel | Sequence[BaseModel], as_json: bool) -> None:
    """Print a service's answer: its JSON form, or its fields (lists of records as tables)."""
    if as_json:
        dumped = (
            data.model_dump(mode="json") if isinstance(data, BaseModel) else [m.model_dump(mode="json") for m in data]
        )
        print(json.dumps(dumped, ensure_ascii=False, indent=2))
    elif not isinstance(data, BaseModel):
        _table(data)
    else:
        for name in type(data).model_fields:
            value = getattr(data, name)
            if isinstance(value, list) and value and isinstance(value[0], BaseModel):
                _table(value)
            else:
                console.print(f"{_label(type(data), name):<24} {_cell(value)}")


@app.command()
@exits_on_app_error
def verify(as_json: Json = False) -> None:
    """核对账簿：余额等于分录合计、分录借贷平衡、总额为零 / check the ledger."""
    with unit_of_work(principal=system_principal()) as s:
        v = balances.verify_ledger(s)
    if as_json:
        _show(v, as_json)
    elif v.ok:
        console.print(
            f"[green]账簿平衡 / ledger balanced[/green]: {v.accounts} 个账户 accounts, {v.entries} 笔分录 entries"
        )
    else:
        for p in v.problems:
            console.print(f"[red]{p}[/red]")
    if not v.ok:
        raise typer.Exit(6)


@app.command()
@exits_on_app_error
def balance(id_number: str, as_json: Json = False) -> None:
    """账户余额 / balance."""
    with unit_of_work(principal=system_principal()) as s:
        answer = balances.balance(s, id_number)
    _show(answer, as_json)


@app.command()
@exits_on_app_error
def records(
    id_number: str,
    kind: Annotated[RecordKind, typer.Option(help="记录类型 / which records")] = RecordKind.ALL,
    start: Annotated[str | None, typer.Option(help="起始日期 / from")] = None,
    end: Annotated[str | None, typer.Option(help="截止日期 / to")] = None,
    page: int = 1,
    per_page: int = 20,
    as_json: Json = False,
) -> None:
    """消费、划入、代缴记录 / account records."""
    with unit_of_work(principal=system_principal()) as s:
        page_ = balances.records(
            s,
            id_number,
            kind=kind,
            start=parse_date(start, field="start") if start else None,
            end=parse_date(end, field="end") if end else None,
            page=page,
            per_page=per_page,
        )
    _show(page_, as_json)


@app.command()
@exits_on_app_error
def credit(
    id_number: str, amount: str, period: str, key: Key, source: Source = "agency", as_json: Json = False
) -> None:
    """资金划入 / credit a contribution (AMOUNT in yuan, PERIOD as YYYY-MM)."""
    with unit_of_work(principal=system_principal()) as s:
        entry = payments.credit_contribution(
            s, id_number=id_number, amount=parse_yuan(amount, field="amount"), period=period, source=source, key=key
        )
    _show(entry, as_json)


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
        p = payments.Payment(id_number, parse_yuan(amount, field="amount"), category, institution, beneficiary)
        answer = payments.pay(s, p, source=source, key=key)
    _show(answer, as_json)


@app.command()
@exits_on_app_error
def bind(
    id_number: str,
    relative: str,
    relation: Annotated[Relation, typer.Option()],
    sign_commitment: Annotated[
        bool, typer.Option("--sign-commitment", help="签署承诺书 / sign the commitment")
    ] = False,
    channel: Channel = Channel.YUNNAN_YIBAO_MINIAPP,
    as_json: Json = False,
) -> None:
    """共济绑定 / let a close relative use the account."""
    with unit_of_work(principal=system_principal()) as s:
        records_ = sharing.bind(
            s,
            holder_id_number=id_number,
            relative_id_number=relative,
            relation=relation,
            commitment_signed=sign_commitment,
            channel=channel,
        )
    _show(records_, as_json)


@app.command()
@exits_on_app_error
def unbind(
    id_number: str,
    relative: str,
    channel: Channel = Channel.YUNNAN_YIBAO_MINIAPP,
    clerk: Annotated[str | None, typer.Option(help="经办人（线下）/ clerk at the agency")] = None,
    proof: Annotated[str | None, typer.Option(help="关系证明材料 / proof of relation")] = None,
    as_json: Json = False,
) -> None:
    """解除绑定 / end a binding."""
    with unit_of_work(principal=system_principal()) as s:
        records_ = sharing.unbind(
            s, holder_id_number=id_number, relative_id_number=relative, channel=channel, clerk=clerk, proof=proof
        )
    _show(records_, as_json)


@app.command()
@exits_on_app_error
def bindings(id_number: str, as_json: Json = False) -> None:
    """共济授权记录 / binding records."""
    with unit_of_work(principal=system_principal()) as s:
        answer = sharing.bindings_of(s, id_number)
    _show(answer, as_json)


@app.command("cross-region-bindings")
@exits_on_app_error
def cross_region_bindings(as_json: Json = False) -> None:
    """列出跨统筹区的有效共济绑定（须解除）/ active bindings across pooling regions (to be ended)."""
    with unit_of_work(principal=system_principal()) as s:
        rows = sharing.cross_region_bindings(s)
    if rows or as_json:
        _show(rows, as_json)
    else:
        console.print("没有跨统筹区的共济绑定 / no binding crosses pooling regions")


@app.command("relative-premium")
@exits_on_app_error
def relative_premium(
    id_number: str, relative: str, relative_name: str, year: int, key: Key, as_json: Json = False
) -> None:
    """为近亲属缴纳居民医保费 / pay a bound relative's resident premium from the account."""
    with unit_of_work(principal=system_principal()) as s:
        receipt = payments.pay_relative_premium(
            s,
            holder_id_number=id_number,
            relative_id_number=relative,
            relative_name=relative_name,
            year=year,
            key=key,
            now=clock.now(),
        )
    _show(receipt, as_json)


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
        policy = insurance.purchase_insurance(
            s,
            holder_id_number=id_number,
            insured_id_number=insured,
            product=product,
            shares=shares,
            key=key,
            source="cli",
            now=clock.now(),
        )
    _show(policy, as_json)


@app.command("insurance-year")
@exits_on_app_error
def insurance_year(policy_id: int, as_json: Json = False) -> None:
    """缴纳商业保险下一年度保费（余额须保留1000元）/ pay a policy's next yearly premium."""
    with unit_of_work(principal=system_principal()) as s:
        answer = insurance.pay_insurance_year(s, policy_id=policy_id, now=clock.now())
    _show(answer, as_json)


@app.command("insurance-mature")
@exits_on_app_error
def insurance_mature(policy_id: int, as_json: Json = False) -> None:
    """商业保险期满返还保费至个人账户 / return a matured policy's premiums to the account."""
    with unit_of_work(principal=system_principal()) as s:
        answer = insurance.mature_insurance(s, policy_id=policy_id, now=clock.now())
    _show(answer, as_json)


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
        application = withdrawals.apply_withdrawal(
            s, holder_id_number=id_number, case=case, documents=document, heir_id_number=heir
        )
    _show(application, as_json)


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
        decision = withdrawals.decide_withdrawal(s, request_id=request_id, approve=approve, clerk=clerk, note=note)
    _show(decision, as_json)
