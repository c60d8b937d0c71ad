"""``yibao calc``: one claim as JSON in, the decision as JSON out (the contract other tools rely on)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yibao.core.errors import AppError, ValidationFailed
from yibao.engine import decide, parse_claim
from yibao.policy.loader import get_pack

if TYPE_CHECKING:
    from rich.console import Console


def _err() -> Console:
    """Standard error for people (rich is imported only when something is printed there)."""
    from rich.console import Console

    return Console(stderr=True)


def _read(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(
            "file", f"无法读取文件：{exc.strerror}", f"cannot read the file: {exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise ValidationFailed("file", "文件不是 UTF-8 文本", "the file is not UTF-8 text") from None
    try:
        # parse_float=Decimal would hide floats; keep them as float so the claim model can refuse them.
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            "claim",
            f"JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}",
            f"malformed JSON at line {exc.lineno}: {exc.msg}",
        ) from None


def calc(
    file: Annotated[str, typer.Argument(help="理赔 JSON 文件，- 表示标准输入 / claim JSON file, or - for stdin")],
    explain: Annotated[
        bool, typer.Option("--explain", help="在标准错误输出中打印计算步骤表 / print the steps as a table")
    ] = False,
    overlay: Annotated[
        list[Path] | None,
        typer.Option(
            "--overlay",
            help="在部署覆盖之后再叠加的覆盖文件（如改革方案）/ overlay applied after the deployment's (a reform)",
        ),
    ] = None,
) -> None:
    """计算一笔待遇（JSON 输入，JSON 输出）/ Decide one claim: JSON in, JSON decision out."""
    try:
        pack = get_pack(extra=overlay or ())
        claim = parse_claim(_read(file))
        decision = decide(claim, pack)
    except AppError as exc:
        print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=2))
        _err().print(f"[red]{exc.message_zh}[/red]\n{exc.message_en}")
        raise typer.Exit(exc.exit_code) from None
    out = decision.to_dict()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if explain:
        from rich.table import Table

        table = Table(title="计算过程 / steps")
        table.add_column("规则 rule")
        table.add_column("说明 description")
        table.add_column("金额 amount", justify="right")
        for s in out["steps"]:
            table.add_row(s["rule"], s["description"], s["amount"] or "")
        _err().print(table)
