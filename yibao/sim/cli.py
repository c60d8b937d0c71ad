"""``yibao sim``: a synthetic Yunnan, a year of its claims settled and reported, policy what-ifs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from yibao.cli.common import exits_on_app_error
from yibao.core.dates import parse_date

app = typer.Typer(help="基金测算：合成省份、年度结算报告、政策对比 / fund analysis", no_args_is_help=True)
console = Console(stderr=True)

ClusterOpt = Annotated[
    str | None,
    typer.Option("--cluster", help="本机 Dask 集群 local:N（N 个工作进程）/ a local Dask cluster of N workers"),
]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="已有 Dask 调度器地址 / address of a running Dask scheduler")
]
ShapeOpt = Annotated[
    Path | None, typer.Option("--shape", help="形状参数文件（默认随软件提供）/ shape file (default: the packaged one)")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="不显示进度条 / no progress bar")]
ProcessesOpt = Annotated[
    int | None,
    typer.Option(
        "--processes",
        help="不用 Dask 时本机结算进程数（默认每核一个）/ settling processes on this machine without Dask "
        "(default: one per core)",
    ),
]


def _where(cluster: str | None, scheduler: str | None, processes: int | None = None) -> Any:
    from yibao.sim.service import Where

    return Where(cluster, scheduler, processes)


@app.command()
@exits_on_app_error
def population(
    out: Annotated[Path, typer.Argument(help="输出文件夹 / output folder")],
    persons: Annotated[int, typer.Option("--persons", help="参保人数 / insured persons")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / random seed")] = 2023,
    as_of: Annotated[str, typer.Option("--as-of", help="年龄参照日 / reference day of ages")] = "2023-01-01",
    partition_persons: Annotated[
        int, typer.Option("--partition-persons", help="每个分区的人数 / persons per partition")
    ] = 1_000_000,
    shape: ShapeOpt = None,
    cluster: ClusterOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """生成合成省份的参保人 / make the insured persons of a synthetic Yunnan."""
    from yibao.sim.service import make_province_population

    day: date = parse_date(as_of, field="as_of")
    m = make_province_population(
        out,
        persons=persons,
        seed=seed,
        as_of=day,
        partition_persons=partition_persons,
        shape_file=shape,
        where=_where(cluster, scheduler),
        quiet=quiet,
    )
    console.print(
        f"[green]{m['persons']:,} 名参保人 insured persons[/green]，{len(m['partitions'])} 个分区 partitions → {out}"
    )


@app.command()
@exits_on_app_error
def claims(
    population: Annotated[Path, typer.Argument(help="参保人文件夹 / population folder")],
    out: Annotated[Path, typer.Argument(help="输出文件夹 / output folder")],
    year: Annotated[
        int, typer.Option("--year", help="待遇年度（含该年7月1日）/ benefit year holding 1 July of")
    ] = 2023,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / random seed")] = 2023,
    shape: ShapeOpt = None,
    cluster: ClusterOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """生成一个待遇年度的城乡居民理赔 / make a benefit year of resident claims."""
    from yibao.sim.service import make_province_claims

    m = make_province_claims(
        population, out, year=year, seed=seed, shape_file=shape, where=_where(cluster, scheduler), quiet=quiet
    )
    y = m["benefit_year"]
    console.print(f"[green]{m['claims']:,} 笔理赔 claims[/green]（{y['start']} – {y['end']}）→ {out}")


@app.command()
@exits_on_app_error
def run(
    claims: Annotated[Path, typer.Argument(help="理赔文件夹 / claims folder")],
    out: Annotated[Path, typer.Option("--out", help="报告文件夹 / report folder")],
    overlay: Annotated[Path | None, typer.Option("--overlay", help="改革方案覆盖文件 / a reform overlay")] = None,
    cluster: ClusterOpt = None,
    scheduler: SchedulerOpt = None,
    processes: ProcessesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """结算一个年度并出报告 / settle a year and report it."""
    from yibao.sim.service import run_year

    r = run_year(claims, out, reform=overlay, where=_where(cluster, scheduler, processes), quiet=quiet)
    o = r["overview"]
    console.print(
        f"[green]{r['data']['claims']:,} 笔已结算 claims settled[/green]（{r['timing']['total_seconds']:.1f} s）："
        f"统筹基金 pooled fund {o['fund_pay']} 元，大病保险 catastrophic {o['catastrophic_pay']} 元，"
        f"个人负担 own {o['personal_pay']} 元 → {out / 'report.html'}"
    )


@app.command()
@exits_on_app_error
def compare(
    claims: Annotated[Path, typer.Argument(help="理赔文件夹 / claims folder")],
    out: Annotated[Path, typer.Option("--out", help="报告文件夹 / report folder")],
    overlay: Annotated[
        list[Path],
        typer.Option("--overlay", help="方案覆盖文件（一个：与现行政策比；多个：与第一个比）/ scenario overlays"),
    ],
    cluster: ClusterOpt = None,
    scheduler: SchedulerOpt = None,
    processes: ProcessesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """同一批理赔按不同政策结算并对比 / the same claims under two policies, compared."""
    from yibao.sim.service import compare_years

    c = compare_years(claims, out, overlays=overlay, where=_where(cluster, scheduler, processes), quiet=quiet)
    for comp in c["comparisons"]:
        fund = next(ln for ln in comp["lines"] if ln["table"] == "overview" and ln["measure"] == "fund_pay")
        p = comp["persons"]
        console.print(
            f"[green]{comp['scenario']['name']}[/green]：统筹基金 pooled fund {fund['difference']} 元（{fund['change']}），"
            f"负担减少 pay less {p['gain']:,} 人，增加 pay more {p['loss']:,} 人"
        )
    console.print(f"→ {out / 'compare.html'}")
