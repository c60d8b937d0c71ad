"""One self-contained HTML page per report: tables and inline SVG charts, no file or network beside it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1100px;color:#1d2733;line-height:1.5}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #1f5fa8;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:.85em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:right}th{background:#eef3f8}
td:first-child,th:first-child{text-align:left;white-space:nowrap}.note{color:#57606a;font-size:.9em}
.tag{display:inline-block;padding:0 .4em;border-radius:3px;font-size:.8em;background:#fff4d6}
.tag.reform{background:#fde2e4}figure{margin:1em 0}svg{max-width:100%;height:auto}
"""

MONEY_COLUMNS: list[tuple[str, str]] = [
    ("claims", "笔数 claims"),
    ("total", "总费用 total"),
    ("in_scope", "医保范围内 in scope"),
    ("fund_pay", "统筹基金 pooled fund"),
    ("catastrophic_pay", "大病保险 catastrophic"),
    ("personal_pay", "个人负担 own payments"),
    ("paid_share_of_in_scope", "范围内报销比 paid share"),
    ("refused", "拒付笔数 refused"),
]
INSURED_COLUMNS: list[tuple[str, str]] = [
    ("insured_residents", "参保居民 insured residents"),
    ("persons_with_claims", "就医人数 persons with claims"),
    ("fund_per_insured", "人均基金支出 funds per insured"),
]


_YUAN = re.compile(r"^-?\d+\.\d{2}$")


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "是 yes" if v else "否 no"
    if isinstance(v, int):
        return f"{v:,}"
    text = str(v)
    if _YUAN.match(text):  # yuan, grouped by thousands for reading (the JSON and CSV keep plain digits)
        whole, cents = text.split(".")
        sign = "-" if whole.startswith("-") else ""
        return f"{sign}{int(whole.lstrip('-')):,}.{cents}"
    return escape(text)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], first: str = "label") -> str:
    """An HTML table of ``rows``: the ``first`` column, then ``columns`` (key, header)."""
    head = "".join(f"<th>{escape(h)}</th>" for _, h in columns)
    body = "".join(
        f"<tr><td>{_cell(r.get(first))}</td>" + "".join(f"<td>{_cell(r.get(k))}</td>" for k, _ in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _figure(svg: str | None) -> str:
    return f"<figure>{svg}</figure>" if svg else ""


def _page(title: str, sections: list[str]) -> str:
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )


def _sources(report: dict[str, Any]) -> str:
    rows = []
    for p in report["policy"]:
        tags = []
        if p["assumed"]:
            tags.append('<span class="tag">假设值 assumed</span>')
        if p["overlay"]:
            tags.append(f'<span class="tag">覆盖 overlay: {escape(p["overlay"])}</span>')
        if p["reform"]:
            tags.append(f'<span class="tag reform">改革 reform: {escape(p["reform"])}</span>')
        rows.append(
            f"<tr><td>{escape(p['path'])}</td><td>{escape(str(p['source']))}</td><td>{' '.join(tags)}</td></tr>"
        )
    html = (
        "<h2>政策参数来源 Policy parameters used</h2><table><tr><th>参数 parameter</th><th>来源 source</th>"
        f"<th></th></tr>{''.join(rows)}</table>"
    )
    if "shape" in report:
        srows = "".join(
            f"<tr><td>{escape(s['description'])}</td><td>{escape(s['source'] or '')}"
            f"{' <span class=tag>假设值 assumed</span>' if s['assumed'] else ''}</td></tr>"
            for s in report["shape"]
        )
        html += f"<h2>合成省份的形状参数 Shape of the synthetic province</h2><table>{srows}</table>"
    return html


def report_page(report: dict[str, Any], svgs: dict[str, str]) -> str:
    """The HTML page of one scenario's report."""
    sc = report["scenario"]
    money_columns = [*MONEY_COLUMNS, *([("reformed", "用到改革值 reformed")] if sc["reforms"] else [])]
    o = report["overview"]
    oop = report["out_of_pocket"]
    cat = report["catastrophic"]
    ceiling = report["fund_ceiling"]
    year = report["benefit_year"]
    intro = (
        f"<p>方案 scenario：<b>{escape(sc['name'])}</b>"
        + (' <span class="tag reform">改革测算 reform</span>' if sc["reforms"] else "")
        + f"；待遇年度 benefit year {escape(year['start'])} – {escape(year['end'])}；"
        f"理赔 {report['data']['claims']:,} 笔 claims；随机种子 seed {report['data']['seed']}。</p>"
        f"<p class=note>{escape(report['data']['note'])}</p>"
    )
    overview = table(
        [o],
        [
            ("insured_residents", "参保居民 insured residents"),
            ("insured_employees", "参保职工 insured employees"),
            ("persons_with_claims", "就医人数 persons with claims"),
            *money_columns,
            ("fund_per_insured", "人均基金支出 funds per insured"),
        ],
    )
    pct = [{"label": k, "value": v} for k, v in oop["percentiles"].items()]
    over = oop["over_catastrophic_threshold"]
    sections = [
        intro,
        f"<h2>概览 Overview</h2>{overview}",
        f"<h2>按待遇 By benefit</h2>{table(report['by_benefit'], money_columns)}{_figure(svgs.get('by_benefit'))}",
        "<h2>资金来源 Who pays</h2>"
        + table(report["by_fund"], [("amount", "金额 amount"), ("share_of_total", "占总费用 share of total")]),
        "<h2>按州（市） By prefecture</h2>"
        + table(report["by_prefecture"], [*INSURED_COLUMNS, *money_columns])
        + _figure(svgs.get("by_prefecture")),
        f"<h2>按月 By month</h2>{table(report['by_month'], money_columns)}{_figure(svgs.get('by_month'))}",
        "<h2>按年龄段（待遇年度开始时） By age band</h2>"
        + table(report["by_age_band"], [*INSURED_COLUMNS, *money_columns])
        + _figure(svgs.get("by_age_band")),
        f"<h2>按人群 By group</h2>{table(report['by_group'], [*INSURED_COLUMNS, *money_columns])}",
        "<h2>个人负担分布 Own payments per person and year</h2>"
        f"<p>有就医记录者 {oop['persons_with_claims']:,} 人，人均 {escape(str(oop['mean']))} 元，最高 {escape(str(oop['max']))} 元。"
        f"年度政策范围内个人负担超过大病保险起付线（{escape(cat['threshold'])} 元）者 {over['persons']:,} 人，"
        f"占就医人数 {escape(str(over['share_of_persons_with_claims']))}、参保居民 {escape(str(over['share_of_insured_residents']))}。</p>"
        + table(pct, [("value", "元 yuan")])
        + _figure(svgs.get("out_of_pocket")),
        "<h2>大病保险分段 Catastrophic cover by band</h2>"
        + table(
            cat["bands"],
            [
                ("rate", "比例 rate"),
                ("persons_reaching", "达到人数 persons"),
                ("burden_in_band", "段内负担 burden"),
                ("pay", "支付 pay"),
            ],
            first="band",
        )
        + f"<p class=note>实付 paid {escape(cat['paid'])}；逐次四舍五入差额 rounding {escape(cat['rounding_difference'])}</p>"
        + _figure(svgs.get("catastrophic_bands")),
        f"<h2>达到年度基金最高支付限额 Reaching the fund ceiling ({escape(ceiling['ceiling'])})</h2>"
        f"<p>{ceiling['persons']:,} 人，占就医人数 {escape(str(ceiling['share_of_persons_with_claims']))}。</p>",
        f"<h2>拒付 Refused claims</h2>{table(report['refusals'], [('claims', '笔数 claims'), ('total', '总费用 total')])}",
        _sources(report),
    ]
    return _page(report["title"], sections)


def comparison_page(comparison: dict[str, Any], svgs: dict[str, str]) -> str:
    """The HTML page of a what-if comparison."""
    ref = comparison["reference"]
    sections = [
        f"<p>参照方案 reference：<b>{escape(ref['name'])}</b>；待遇年度 {escape(comparison['benefit_year']['start'])} – "
        f"{escape(comparison['benefit_year']['end'])}；同一批理赔 {comparison['data']['claims']:,} 笔 (same claims).</p>"
    ]
    for i, comp in enumerate(comparison["comparisons"]):
        suffix = "" if len(comparison["comparisons"]) == 1 else f"_{i + 1}"
        p = comp["persons"]
        headline = [ln for ln in comp["lines"] if ln["table"] in ("overview", "by_benefit", "by_fund")]
        counts = [{"label": k, **v} for k, v in comp["counts"].items()]
        sections += [
            f"<h2>方案 {escape(comp['scenario']['name'])} 对比参照 against the reference</h2>",
            f"<p>个人负担减少 {p['gain']:,} 人（共少付 {escape(p['paid_less'])} 元），增加 {p['loss']:,} 人"
            f"（共多付 {escape(p['paid_more'])} 元），不变 {p['same']:,} 人。</p>",
            table(
                headline,
                [
                    ("measure", "项目 measure"),
                    ("reference", "参照 reference"),
                    ("scenario", "方案 scenario"),
                    ("difference", "差额 difference"),
                    ("change", "变化 change"),
                ],
            ),
            table(
                counts,
                [("reference", "参照 reference"), ("scenario", "方案 scenario"), ("difference", "差额 difference")],
            ),
            _figure(svgs.get(f"change_by_prefecture{suffix}")),
            _figure(svgs.get(f"gainers_losers{suffix}")),
        ]
        gain_cols = [
            ("persons", "就医人数 persons"),
            ("gain", "减少 pay less"),
            ("loss", "增加 pay more"),
            ("same", "不变 same"),
            ("gain_share", "减少比例"),
            ("loss_share", "增加比例"),
            ("paid_less", "少付 paid less"),
            ("paid_more", "多付 paid more"),
        ]
        sections += [
            f"<h3>按州（市） by prefecture</h3>{table(comp['gainers_by_prefecture'], gain_cols)}",
            f"<h3>按人群 by group</h3>{table(comp['gainers_by_group'], gain_cols)}",
            f"<h3>按年龄段 by age band</h3>{table(comp['gainers_by_age_band'], gain_cols)}",
            "<h3>逐行对比 every line</h3>"
            + table(
                comp["lines"],
                [
                    ("table", "表 table"),
                    ("measure", "项目 measure"),
                    ("reference", "参照 reference"),
                    ("scenario", "方案 scenario"),
                    ("difference", "差额 difference"),
                    ("change", "变化 change"),
                ],
            ),
        ]
    return _page(comparison["title"], sections)
