"""``yibao his call``: send one message of the national interface, as a hospital's system would."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from yibao.cli.common import err_console
from yibao.nhsa.errors import to_json

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
) -> None:
    """发送一笔交易并打印应答 / send one message and print the answer (exit 1 when infcode is -1)."""
    from yibao.his import Client, HisError

    client = Client(server, code, paasid, secret)
    client.sign_no = sign_no
    extra = {"insuplc_admdvs": insuplc_admdvs} if insuplc_admdvs else {}
    try:
        answer = client.send(infno, _input(input_file), msgid=msgid, **extra)
    except (httpx.HTTPError, HisError) as exc:
        err_console.print(f"[red]无法连接或应答无效 / no valid answer: {exc}[/red]")
        raise typer.Exit(3) from None
    finally:
        client.close()
    print(to_json_pretty(answer.envelope))
    if not answer.ok:
        err_console.print(f"[red]{answer.err_msg}[/red]")
        raise typer.Exit(1)


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
