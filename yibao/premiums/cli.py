"""``yibao premiums``: contribution years, payments, receipts and records."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from yibao.cli.common import exits_on_app_error, print_model
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.money import parse_yuan
from yibao.core.unit import unit_of_work
from yibao.premiums import contributions, payments

app = typer.Typer(help="居民医保缴费 / resident premium collection", no_args_is_help=True)
console = Console()
Json = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
# The columns of a list of receipts on screen; --json gives every field.
RECEIPT_COLUMNS = ("receipt_no", "year", "amount", "insured_name", "payer_name", "proxy", "channel_name", "paid_at")


@app.command()
@exits_on_app_error
def year(year: int, as_json: Json = False) -> None:
    """年度缴费标准与集中缴费期 / a contribution year."""
    # As GET /api/premiums/years/{year}: a source shows the keys it has.
    print_model(contributions.describe_year(year), as_json, console, exclude_unset=True)


@app.command()
@exits_on_app_error
def pay(
    insured: Annotated[str, typer.Option(help="参保人身份证号 / insured ID number")],
    name: Annotated[str, typer.Option(help="参保人姓名 / insured name")],
    year: Annotated[int, typer.Option(help="缴费年度 / year")],
    amount: Annotated[str, typer.Option(help="金额（元）/ amount in yuan")],
    channel: Annotated[str, typer.Option(help="缴费渠道 / channel")],
    region: Annotated[str, typer.Option(help="经办机构（统筹区）/ agency")],
    key: Annotated[str, typer.Option("--idempotency-key", help="幂等键 / idempotency key")],
    payer: Annotated[str | None, typer.Option(help="代缴人身份证号 / proxy payer")] = None,
    payer_name: Annotated[str | None, typer.Option(help="代缴人姓名 / proxy payer's name")] = None,
    collector: Annotated[str | None, typer.Option(help="代收人员 / collector (POS)")] = None,
    as_json: Json = False,
) -> None:
    """缴纳城乡居民医保费 / pay a resident premium."""
    req = payments.PaymentRequest(
        insured_id_number=insured,
        insured_name=name,
        year=year,
        amount=parse_yuan(amount, field="amount"),
        channel=channel,
        region=region,
        idempotency_key=key,
        payer_id_number=payer,
        payer_name=payer_name,
        collector=collector,
    )
    with unit_of_work(principal=system_principal()) as s:
        receipt = payments.pay_premium(s, req, now=clock.now())
    print_model(receipt, as_json, console)


@app.command()
@exits_on_app_error
def receipt(receipt_no: str, as_json: Json = False) -> None:
    """电子回执 / a receipt."""
    with unit_of_work(principal=system_principal()) as s:
        found = payments.get_receipt(s, receipt_no)
    print_model(found, as_json, console)


@app.command()
@exits_on_app_error
def records(
    id_number: str,
    proxy: Annotated[bool, typer.Option("--proxy", help="代缴记录 / payments made for others")] = False,
    as_json: Json = False,
) -> None:
    """缴费记录（或代缴记录）/ payment records."""
    with unit_of_work(principal=system_principal()) as s:
        rows = payments.payments_by_payer(s, id_number) if proxy else payments.payments_for_insured(s, id_number)
    print_model(rows, as_json, console, columns=RECEIPT_COLUMNS)
