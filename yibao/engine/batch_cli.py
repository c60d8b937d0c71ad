"""``yibao batch``: settle a Parquet file of claims, or generate a synthetic one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yibao.cli.common import exits_on_app_error
from yibao.core.errors import ValidationFailed
from yibao.core.money import parse_yuan
from yibao.engine.batch import COLUMNS, KINDS, OFFSITE, REFUSALS, person_chunks, reform_names, settle_batch
from yibao.engine.synthetic import generate_claims
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

app = typer.Typer(help="批量结算 / batch settlement of claim files", no_args_is_help=True)
console = Console(stderr=True)

_LABELS: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "offsite": OFFSITE,
    "sex": ("M", "F"),
    "group": ("general", "student_child"),
}


def _column(table: pa.Table, name: str, dtype: str, diseases: tuple[str, ...]) -> npt.NDArray[Any]:
    if name not in table.column_names:
        raise ValidationFailed(name, "缺少该列", "missing column")
    col = table.column(name)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        values = col.to_pylist()
        if dtype == "int64":  # money given as yuan strings
            return np.array([parse_yuan(v, field=name) for v in values], dtype=np.int64)
        labels = diseases if name == "disease" else _LABELS.get(name)
        if labels is None:
            raise ValidationFailed(name, "该列不能是文本", "this column must not be text")
        index = {label: i for i, label in enumerate(labels)}
        try:
            return np.array([index[v] for v in values], dtype=dtype)
        except KeyError as exc:
            raise ValidationFailed(name, f"未知取值 {exc.args[0]!r}", f"unknown value {exc.args[0]!r}") from None
    if pa.types.is_floating(col.type):
        raise ValidationFailed(name, "不接受浮点数列", "floating-point columns are refused")
    arr = col.to_numpy(zero_copy_only=False)
    return np.asarray(arr).astype(dtype)


def read_claims(path: Path, pack: Pack | None = None) -> tuple[dict[str, npt.NDArray[Any]], pa.Table]:
    """Read a claims Parquet file into the batch's columns (labels and yuan strings accepted)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValidationFailed(
            "file", f"无法读取 Parquet 文件：{exc}", f"cannot read the Parquet file: {exc}"
        ) from None
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise ValidationFailed(missing[0], f"缺少列：{', '.join(missing)}", f"missing columns: {', '.join(missing)}")
    pack = pack or get_pack()
    first = table.column("date")[0].as_py() if table.num_rows else None
    diseases: tuple[str, ...] = ()
    if first is not None:
        diseases = pack.codes("resident.special_outpatient.diseases", first)
    return {name: _column(table, name, dt, diseases) for name, dt in COLUMNS.items()}, table


@app.command()
@exits_on_app_error
def settle(
    claims: Annotated[
        Path, typer.Argument(help="理赔 Parquet 文件（按参保人、日期排序）/ claims, sorted by person and date")
    ],
    out: Annotated[Path, typer.Option("--out", help="结算结果 Parquet 文件 / decisions file")],
    chunk: Annotated[int, typer.Option(help="每批行数 / rows per chunk")] = 1_000_000,
    overlay: Annotated[
        list[Path] | None,
        typer.Option(
            "--overlay",
            help="在部署覆盖之后再叠加的覆盖文件（如改革方案）/ overlay applied after the deployment's (a reform)",
        ),
    ] = None,
) -> None:
    """批量结算一个年度的理赔 / settle a year of claims at once."""
    pack = get_pack(extra=overlay or ())
    cols, table = read_claims(claims, pack)
    parts: dict[str, list[npt.NDArray[Any]]] = {}
    ranges = person_chunks(cols["person_id"], chunk)
    with Progress(
        TextColumn("结算 settling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("settle", total=table.num_rows)
        for lo, hi in ranges:
            res = settle_batch({k: v[lo:hi] for k, v in cols.items()}, pack)
            for k, v in res.items():
                parts.setdefault(k, []).append(v)
            progress.advance(task, hi - lo)
    result = {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in parts.items()}
    refused = result.pop("refused")
    reforms = result.pop("reforms")
    for k, v in result.items():
        table = table.append_column(k, pa.array(v, type=pa.int64()))
    table = table.append_column("refused", pa.array([REFUSALS[i] or None for i in refused.tolist()], type=pa.string()))
    if pack.reforms:  # which reforms each decision used, by name (comma-separated)
        names = [",".join(reform_names(pack, m)) or None for m in reforms.tolist()]
        table = table.append_column("reforms", pa.array(names, type=pa.string()))
    pq.write_table(table, out)
    fund = int(result["fund_pay"].sum()) if len(refused) else 0
    cat = int(result["catastrophic_pay"].sum()) if len(refused) else 0
    console.print(
        f"[green]{table.num_rows} 笔已结算 claims settled[/green]：基金 fund {fund / 100:,.2f} 元，"
        f"大病 catastrophic {cat / 100:,.2f} 元 → {out}"
    )


@app.command()
@exits_on_app_error
def generate(
    out: Annotated[Path, typer.Option("--out", help="输出 Parquet 文件 / output file")],
    claims: Annotated[int, typer.Option("--claims", help="理赔笔数 / number of claims")] = 100_000,
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 2016,
) -> None:
    """生成合成理赔数据（演示与压测）/ generate synthetic claims for demos and benchmarks."""
    cols = generate_claims(claims, seed=seed)
    table = pa.table({k: pa.array(v) for k, v in cols.items()})
    pq.write_table(table, out)
    console.print(f"[green]{claims} 笔合成理赔 synthetic claims[/green] → {out}")
