"""``yibao his call``: send one message of the national interface, as a hospital's system would."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from yibao.cli.common import err_console
from yibao.nhsa.errors import to_json

if TYPE_CHECKING:
    from yibao.his import Client

app = typer.Typer(help="医院端国家接口调用 / the hospital side of the national interface", no_args_is_help=True)


def _input(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        err_console.print(f"[red]{path}: 不是有效的JSON / not JSON: {exc}[/red]")
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        err_console.print(f"[red]{path}: 应为JSON对象（交易的 input 节点）/ expected the input object[/red]")
        raise typer.Exit(2)
    return data


@app.command()
def call(
    infno: Annotated[str, typer.Argument(help="交易编号，如 1101 / transaction number")],
    input_file: Annotated[
        str, typer.Option("--input", help="input 节点的JSON文件（- 为标准输入）/ JSON file of input")
    ],
    server: Annotated[str, typer.Option(help="服务地址，如 http://127.0.0.1:8000 / server URL")],
    code: Annotated[str, typer.Option(help="定点医药机构编码 / institution code")],
    paasid: Annotated[str, typer.Option(help="接入账号 / app account (x-tif-paasid)")],
    secret: Annotated[str, typer.Option(help="密钥 / secret", envvar="YIBAO_HIS_SECRET")],
    sign_no: Annotated[str | None, typer.Option(help="签到编号 / sign_no of a 9001 sign-in")] = None,
    insuplc_admdvs: Annotated[str | None, typer.Option(help="参保地区划 / the insured's region")] = None,
    msgid: Annotated[str | None, typer.Option(help="报文ID，默认自动编号 / message id (default: numbered)")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="文件应答（9102）保存到此，默认用 filename / where a file answer (9102) goes"),
    ] = None,
) -> None:
    """发送一笔交易并打印应答 / send one message and print the answer (exit 1 when infcode is -1)."""
    from yibao.his import Client, HisError

    client = Client(server, code, paasid, secret)
    client.sign_no = sign_no
    extra = {"insuplc_admdvs": insuplc_admdvs} if insuplc_admdvs else {}
    payload = _input(input_file)
    try:
        answer = client.send(infno, payload, msgid=msgid, **extra)
    except (httpx.HTTPError, HisError) as exc:
        err_console.print(f"[red]无法连接或应答无效 / no valid answer: {exc}[/red]")
        raise typer.Exit(3) from None
    finally:
        client.close()
    if answer.file is not None:  # 9102 answers with the file itself
        node = payload.get("fsDownloadIn")
        named = node.get("filename") if isinstance(node, dict) else None
        target = output or Path(Path(str(named)).name if named else "download.zip")
        target.write_bytes(answer.file)
        err_console.print(f"文件已保存 / saved: {target} ({len(answer.file)} bytes)")
        return
    print(to_json_pretty(answer.envelope))
    if not answer.ok:
        err_console.print(f"[red]{answer.err_msg}[/red]")
        raise typer.Exit(1)


Server = Annotated[str, typer.Option(help="服务地址，如 http://127.0.0.1:8000 / server URL")]
Code = Annotated[str, typer.Option(help="定点医药机构编码 / institution code")]
Paasid = Annotated[str, typer.Option(help="接入账号 / app account (x-tif-paasid)")]
Secret = Annotated[str, typer.Option(help="密钥 / secret", envvar="YIBAO_HIS_SECRET")]
CertNo = Annotated[str, typer.Option("--cert-no", help="身份证号（mdtrt_cert_type 02）/ the patient's ID number")]
Bill = Annotated[Path, typer.Option("--bill", help="费用清单 .json 或 .csv / the bill: JSON or CSV")]
AcctFlag = Annotated[
    str, typer.Option("--acct-used-flag", help="个人账户 0 不用 / 1 本人再共济 / 2 共济 / personal account use")
]
DiagCode = Annotated[str, typer.Option("--diag-code", help="诊断编码 / diagnosis code")]
DiagName = Annotated[str, typer.Option("--diag-name", help="诊断名称 / diagnosis name")]
Json = Annotated[bool, typer.Option("--json", help="输出结算应答 JSON / print the answers as JSON")]

RECEIPT = (
    ("medfee_sumamt", "医疗费总额"),
    ("fulamt_ownpay_amt", "全自费金额"),
    ("overlmt_selfpay", "超限价自付"),
    ("preselfpay_amt", "先行自付金额"),
    ("inscp_scp_amt", "符合政策范围金额"),
    ("act_pay_dedc", "起付标准"),
    ("hifp_pay", "统筹基金支付"),
    ("hifmi_pay", "大病保险支付"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("psn_part_amt", "个人负担总额"),
    ("acct_pay", "个人账户支付"),
    ("acct_mulaid_pay", "其中共济账户支付"),
    ("psn_cash_pay", "现金支付"),
    ("balc", "个人账户余额"),
)


def _visit(
    kind: str,
    *,
    server: str,
    code: str,
    paasid: str,
    secret: str,
    cert_no: str,
    bill: Path,
    options: Any,
    as_json: bool,
) -> None:
    from rich.console import Console

    from yibao.his import Client, visit

    try:
        lines = visit.read_bill(bill)
    except visit.BillError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None

    def say(infno: str, what: str) -> None:
        err_console.print(f"[dim]{infno}[/dim] {what}")

    run = visit.outpatient if kind == "outpatient" else visit.inpatient
    with _talking(Client(server, code, paasid, secret)) as client:
        result = run(client, cert_no, lines, options, say=say)
    if as_json:
        print(to_json_pretty(result.to_dict()))
        return
    print_receipt(Console(), result, lines)


def print_receipt(console: Any, result: Any, lines: Any) -> None:
    """The settlement as a receipt: the fee lines, then the amounts as the hospital prints them."""
    from rich.table import Table

    info = result.setlinfo
    console.print(f"[bold]医保结算单 / settlement receipt[/bold]  结算ID {info.get('setl_id')}")
    console.print(
        f"姓名 {result.psn_name}  证件 {info.get('certno')}  人员编号 {result.psn_no}  "
        f"险种 {result.insutype}  医疗类别 {info.get('med_type')}"
    )
    console.print(f"就诊ID {result.mdtrt_id}  结算时间 {info.get('setl_time')}")
    items = Table("序号", "目录编码 code", "单价 pric", "数量 cnt", "金额 amount", "等级", "自付比例", title="费用明细")
    for i, (li, r) in enumerate(zip(lines, result.lines, strict=False), 1):
        items.add_row(
            str(i),
            li.med_list_codg,
            f"{li.pric}",
            f"{li.cnt}",
            f"{li.amount:.2f}",
            str(r.get("chrgitm_lv", "")),
            str(r.get("selfpay_prop", "")),
        )
    console.print(items)
    receipt = Table("项目 item", "金额（元）", title="结算信息 / amounts")
    receipt.columns[1].justify = "right"
    for key, label in RECEIPT:
        value = info.get(key)
        receipt.add_row(f"{label} {key}", "" if value is None else f"{value}")
    console.print(receipt)
    for d in result.setldetail:
        console.print(f"{d.get('fund_pay_type')} {d.get('fund_pay_type_name')}: {d.get('fund_payamt')}")


@app.command()
def outpatient(
    server: Server,
    code: Code,
    paasid: Paasid,
    secret: Secret,
    cert_no: CertNo,
    bill: Bill,
    med_type: Annotated[str, typer.Option("--med-type", help="11 普通门诊 / 14 门诊慢特病")] = "11",
    acct_used_flag: AcctFlag = "0",
    diag_code: DiagCode = "J06.900",
    diag_name: DiagName = "急性上呼吸道感染",
    as_json: Json = False,
) -> None:
    """一次完整的门诊：签到、读人员、挂号、诊断、上传费用、预结算、结算、签退 / a whole outpatient visit."""
    from yibao.his.visit import VisitOptions

    options = VisitOptions(med_type=med_type, acct_used_flag=acct_used_flag, diag_code=diag_code, diag_name=diag_name)
    _visit(
        "outpatient",
        server=server,
        code=code,
        paasid=paasid,
        secret=secret,
        cert_no=cert_no,
        bill=bill,
        options=options,
        as_json=as_json,
    )


@app.command()
def inpatient(
    server: Server,
    code: Code,
    paasid: Paasid,
    secret: Secret,
    cert_no: CertNo,
    bill: Bill,
    med_type: Annotated[str, typer.Option("--med-type", help="21 普通住院 / 52 生育住院")] = "21",
    matn_type: Annotated[str | None, typer.Option("--matn-type", help="生育类别 / maternity kind")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=365, help="住院天数，至今日出院 / days in hospital")] = 3,
    acct_used_flag: AcctFlag = "0",
    diag_code: DiagCode = "J18.900",
    diag_name: DiagName = "肺炎",
    as_json: Json = False,
) -> None:
    """一次完整的住院：签到、读人员、入院、上传费用、出院、预结算、结算、签退 / a whole inpatient stay."""
    from datetime import timedelta

    from yibao.core import clock
    from yibao.his.visit import VisitOptions

    options = VisitOptions(
        med_type=med_type,
        acct_used_flag=acct_used_flag,
        diag_code=diag_code,
        diag_name=diag_name,
        matn_type=matn_type,
        begntime=clock.now() - timedelta(days=days),
    )
    _visit(
        "inpatient",
        server=server,
        code=code,
        paasid=paasid,
        secret=secret,
        cert_no=cert_no,
        bill=bill,
        options=options,
        as_json=as_json,
    )


@app.command()
def reconcile(
    server: Server,
    code: Code,
    paasid: Paasid,
    secret: Secret,
    rows_file: Annotated[
        Path, typer.Option("--rows", help="本期结算 CSV（含表头）/ the period's settlements: CSV with a header")
    ],
    period: Annotated[str, typer.Option("--period", help="对账期间 yyyy-MM-dd:yyyy-MM-dd / the period")],
    setl_optins: Annotated[str, typer.Option("--setl-optins", help="清算经办机构（统筹区）/ clearing agency")],
    clr_type: Annotated[str, typer.Option("--clr-type", help="11 门诊 / 14 慢特病 / 21 住院")] = "21",
    output: Annotated[Path | None, typer.Option("--output", help="对账结果ZIP保存到此 / save the result zip")] = None,
    as_json: Json = False,
) -> None:
    """对明细账：上传（9101）、比对（3202）、下载结果（9102）/ reconcile the period's settlements row by row.

    Exits with 4 when some rows differ (1 when a message is refused, as every ``yibao his`` command).
    """
    from datetime import date

    from rich.console import Console

    from yibao.his import Client
    from yibao.his import reconcile as recon

    try:
        begin, end = (date.fromisoformat(part) for part in period.split(":"))
    except ValueError:
        err_console.print(f"[red]--period 应为 yyyy-MM-dd:yyyy-MM-dd / expected two dates: {period}[/red]")
        raise typer.Exit(2) from None
    try:
        rows = recon.read_rows(rows_file)
    except recon.RowsError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    with _talking(Client(server, code, paasid, secret)) as client:
        result = recon.reconcile(client, rows, begin=begin, end=end, clr_type=clr_type, setl_optins=setl_optins)
    if output is not None:
        output.write_bytes(result.content)
    if as_json:
        print(to_json_pretty(result.to_dict()))
    elif not result.rows:
        Console().print(f"对账一致 / all {len(rows)} rows agree ({result.fileinfo['filename']})")
    else:
        _print_differences(Console(), result.rows)
    if result.rows:
        raise typer.Exit(4)


def _print_differences(console: Any, rows: list[dict[str, str]]) -> None:
    from rich.table import Table

    from yibao.his.reconcile import COLUMNS

    table = Table("setl_id", "机构 medfee / fund / acct / 冲销", "医保 medfee / fund / acct / 冲销", "原因 reason")
    for r in rows:
        table.add_row(
            r["fixmedins_setl_id"] if r["fixmedins_setl_id"] != "null" else r["yibao_setl_id"],
            *(" / ".join(r[f"{side}_{c}"] for c in COLUMNS[3:]) for side in ("fixmedins", "yibao")),
            r["reason"],
        )
    console.print(table)


def to_json_pretty(value: Any) -> str:
    """An answer as indented JSON, amounts with their exact digits."""
    return _indent(value)


def _indent(value: Any, depth: int = 0) -> str:
    pad = "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_indent(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(f"{pad}{_indent(v, depth + 1)}" for v in value) + "\n" + "  " * depth + "]"
    return to_json(value)


@contextmanager
def _talking(client: Client) -> Iterator[Client]:
    """A conversation with the server: a refused message exits 1, no connection 3; the client closed either way."""
    from yibao.his import HisError

    try:
        yield client
    except HisError as exc:
        err_console.print(f"[red]{exc.err_msg}[/red]")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        err_console.print(f"[red]无法连接 / cannot connect: {exc}[/red]")
        raise typer.Exit(3) from None
    finally:
        client.close()
