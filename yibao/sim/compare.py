"""What-ifs: the same claims settled under two policies, line by line, and who gains or loses.

The first scenario is the reference. Every money line of every report table is given under both, with
the difference (scenario minus reference) and the change in percent. Person-years are compared by
what each person paid out of pocket over the year: less under the scenario is a gain, more a loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from yibao.core.money import format_yuan, parse_yuan
from yibao.people.regions import REGIONS
from yibao.sim.frame import AGE_LABELS, GROUP_LABELS, PREFECTURES
from yibao.sim.report import MONEY, TABLES, percent
from yibao.sim.tally import Diff

_LINE_MEASURES = (*MONEY, "fund_per_insured", "amount")


def _fen(text: str | None) -> int | None:
    return None if text is None else parse_yuan(text, field="amount", allow_negative=True)


def _line(table: str, key: str, label: str, measure: str, ref: str | None, alt: str | None) -> dict[str, Any]:
    a, b = _fen(ref), _fen(alt)
    diff = None if a is None or b is None else b - a
    return {
        "table": table,
        "key": key,
        "label": label,
        "measure": measure,
        "reference": ref,
        "scenario": alt,
        "difference": None if diff is None else format_yuan(diff),
        "change": None if diff is None or a is None else percent(diff, a),
    }


def report_lines(ref: dict[str, Any], alt: dict[str, Any]) -> list[dict[str, Any]]:
    """Every money line of two reports of the same claims, side by side."""
    lines = []
    for m in _LINE_MEASURES:
        if m in ref["overview"]:
            lines.append(_line("overview", "all", ref["overview"]["label"], m, ref["overview"][m], alt["overview"][m]))
    for table in TABLES:
        for r, a in zip(ref[table], alt[table], strict=True):
            for m in _LINE_MEASURES:
                if m in r:
                    lines.append(_line(table, r["key"], r["label"], m, r[m], a[m]))
    for name, value in ref["out_of_pocket"]["percentiles"].items():
        lines.append(
            _line(
                "out_of_pocket",
                name,
                f"个人负担{name} own payments {name}",
                "amount",
                value,
                alt["out_of_pocket"]["percentiles"][name],
            )
        )
    lines.append(
        _line(
            "catastrophic",
            "paid",
            "大病保险支付 catastrophic paid",
            "amount",
            ref["catastrophic"]["paid"],
            alt["catastrophic"]["paid"],
        )
    )
    return lines


def _counts(ref: dict[str, Any], alt: dict[str, Any]) -> dict[str, Any]:
    """Counts that are not money: persons over the threshold, at the ceiling, with claims."""

    def counts(r: dict[str, Any]) -> dict[str, int]:
        return {
            "over_catastrophic_threshold": int(r["out_of_pocket"]["over_catastrophic_threshold"]["persons"]),
            "at_fund_ceiling": int(r["fund_ceiling"]["persons"]),
            "refused_claims": int(r["overview"]["refused"]),
        }

    a, b = counts(ref), counts(alt)
    return {k: {"reference": a[k], "scenario": b[k], "difference": b[k] - a[k]} for k in a}


def _gainers(diff: Diff, axis_keep: int) -> list[dict[str, Any]]:
    """Gainers and losers by prefecture (0), age band (1) or group (2)."""
    other = tuple(a for a in (0, 1, 2) if a != axis_keep)
    counts = diff.counts.sum(axis=tuple(a + 1 for a in other))  # [gain/loss/same, kept]
    money = diff.money.sum(axis=tuple(a + 1 for a in other))
    if axis_keep == 0:
        keys = [(c, REGIONS[c]) for c in PREFECTURES]
    elif axis_keep == 1:
        keys = [(str(i), a) for i, a in enumerate(AGE_LABELS)]
    else:
        keys = [(str(i), g) for i, g in enumerate(GROUP_LABELS)]
    rows = []
    for j, (key, label) in enumerate(keys):
        n = int(counts[:, j].sum())
        rows.append(
            {
                "key": key,
                "label": label,
                "persons": n,
                "gain": int(counts[0, j]),
                "loss": int(counts[1, j]),
                "same": int(counts[2, j]),
                "gain_share": percent(int(counts[0, j]), n),
                "loss_share": percent(int(counts[1, j]), n),
                "paid_less": format_yuan(int(money[0, j])),
                "paid_more": format_yuan(int(money[1, j])),
                "net_change_for_persons": format_yuan(int(money[1, j] - money[0, j])),
            }
        )
    return rows


def build_comparison(reports: list[dict[str, Any]], diffs: list[Diff]) -> dict[str, Any]:
    """Each scenario against the first, on the same claims."""
    ref = reports[0]
    comparisons = []
    for alt, diff in zip(reports[1:], diffs, strict=True):
        total = diff.counts.sum(axis=(1, 2, 3))
        comparisons.append(
            {
                "scenario": alt["scenario"],
                "counts": _counts(ref, alt),
                "persons": {
                    "gain": int(total[0]),
                    "loss": int(total[1]),
                    "same": int(total[2]),
                    "paid_less": format_yuan(int(diff.money[0].sum())),
                    "paid_more": format_yuan(int(diff.money[1].sum())),
                },
                "lines": report_lines(ref, alt),
                "gainers_by_prefecture": _gainers(diff, 0),
                "gainers_by_age_band": _gainers(diff, 1),
                "gainers_by_group": _gainers(diff, 2),
            }
        )
    return {
        "title": "政策测算对比 / policy what-if comparison",
        "benefit_year": ref["benefit_year"],
        "data": ref["data"],
        "reference": ref["scenario"],
        "comparisons": comparisons,
        "same_claims": bool(np.all([r["data"]["claims"] == ref["data"]["claims"] for r in reports])),
    }
