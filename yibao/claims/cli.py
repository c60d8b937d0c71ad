"""``yibao settlements``: a settlement with its explanation, a person's settlements (``--json`` for machines)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yibao.claims import views
from yibao.claims.schemas import SettlementList, SettlementOut
from yibao.cli.common import exits_on_app_error
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work

app = typer.Typer(help="结算查询 / settlements", no_args_is_help=True)
console = Console()

Json = Annotated[bool, typer.Option("--json", help="输出 JSON（与接口相同）/ print the endpoint's JSON")]


def _show(out: SettlementOut, explain: bool) -> None:
    state = "已冲销 reversed" if out.state == "reversed" else "已结算 settled"
    console.print(f"[bold]结算 {out.setl_id}[/bold]  {state}  {out.setl_time}")
    for label, value in (
        ("就诊 mdtrt_id", out.mdtrt_id),
        ("参保人 person", f"{out.psn_name} {out.certno}"),
        ("机构 institution", f"{out.fixmedins_code} {out.fixmedins_name or ''}"),
        ("医疗类别 med_type", f"{out.med_type} {out.med_type_name}"),
        ("就诊时间 dates", f"{out.begntime} – {out.endtime or ''}"),
    ):
        console.print(f"{label:<22} {value}")
    table = Table("项目 item", "金额（元）yuan", title="结算金额 / amounts")
    for key, name in (
        ("medfee_sumamt", "医疗费总额"),
        ("fulamt_ownpay_amt", "全自费"),
        ("overlmt_selfpay", "超限价自付"),
        ("preselfpay_amt", "先行自付"),
        ("inscp_scp_amt", "符合范围"),
        ("hifp_pay", "统筹基金支付"),
        ("hifmi_pay", "大病保险支付"),
        ("fund_pay_sumamt", "基金支付合计"),
        ("acct_pay", "个人账户支付"),
        ("acct_mulaid_pay", "其中共济账户"),
        ("psn_cash_pay", "现金支付"),
    ):
        table.add_row(f"{name} {key}", str(out.setlinfo.get(key, "")))
    table.columns[1].justify = "right"
    console.print(table)
    if out.diagnoses:
        diag = Table("阶段 stage", "编码 code", "名称 name", "主 main", title="诊断 / diagnoses")
        for d in out.diagnoses:
            diag.add_row(d.stage, d.diag_code, d.diag_name, "是" if d.main else "")
        console.print(diag)
    if explain:
        console.print("[bold]计算依据 / explanation[/bold]")
        for line in out.explanation:
            console.print(line, markup=False)


@app.command()
@exits_on_app_error
def show(
    setl_id: Annotated[str, typer.Argument(help="结算ID / setl_id")],
    explain: Annotated[
        bool, typer.Option("--explain", help="打印计算步骤与政策原文 / the steps and sentences")
    ] = False,
    as_json: Json = False,
) -> None:
    """查看结算单 / a settlement, with its explanation when asked."""
    with unit_of_work(principal=system_principal()) as s:
        out = views.show(s, setl_id)
    if as_json:
        print(out.model_dump_json(indent=2))
    else:
        _show(out, explain)


def _list(out: SettlementList) -> None:
    table = Table(
        "结算ID setl_id", "时间 time", "机构 institution", "类别 type", "总额", "基金", "账户", "现金", "状态 state"
    )
    for r in out.settlements:
        table.add_row(
            r.setl_id,
            r.setl_time,
            r.fixmedins_name or r.fixmedins_code,
            r.med_type_name,
            r.medfee_sumamt,
            r.fund_pay_sumamt,
            r.acct_pay,
            r.psn_cash_pay,
            r.state,
        )
    console.print(f"参保人 {out.certno}：{len(out.settlements)} 笔结算 / settlements")
    console.print(table)


@app.command("list")
@exits_on_app_error
def list_settlements(
    id_number: Annotated[str, typer.Argument(help="身份证号 / ID number")], as_json: Json = False
) -> None:
    """参保人的结算记录 / a person's settlements, newest first."""
    with unit_of_work(principal=system_principal()) as s:
        out = views.list_for(s, id_number)
    if as_json:
        print(out.model_dump_json(indent=2))
    else:
        _list(out)
