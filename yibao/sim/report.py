"""The fund manager's report of a settled year: tables in exact yuan, Chinese labels first.

Money leaves as yuan strings with two decimals; shares as percentages computed from the integers
(rounded half up at the last shown digit). ``build_report`` gives a JSON-ready dict; ``write_tables``
writes each table as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the Chinese).
"""

from __future__ import annotations

import csv
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.money import div_half_up, format_yuan
from yibao.engine.batch import KINDS, POLICY_PATHS, REFUSALS
from yibao.people.regions import REGIONS
from yibao.policy.model import Pack
from yibao.sim.frame import AGE_LABELS, GROUP_LABELS, KIND_LABELS, PREFECTURES
from yibao.sim.payments import OwnPayments
from yibao.sim.run import Outcome
from yibao.sim.scenario import Scenario
from yibao.sim.shape import Shape
from yibao.sim.tally import MEASURES, PERSON_MEASURES, Tally, scale_of

I64 = npt.NDArray[np.int64]
MONEY = ("total", "in_scope", "fund_pay", "catastrophic_pay", "personal_pay")
PERCENTILES = (("p50", 50), ("p75", 75), ("p90", 90), ("p95", 95), ("p99", 99), ("p99_9", 99.9))
REFUSAL_LABELS: dict[str, str] = {
    "": "予以支付 paid",
    "inpatient.not_designated": "非定点医院住院 not a designated hospital",
    "inpatient.not_registered": "未办理住院登记 admission not registered",
    "offsite.not_filed": "异地就医未备案 off-site care not filed",
    "offsite.late_application": "逾期申请报销 late application",
    "general_outpatient.not_community_center": "非社区卫生服务中心 not a community health centre",
    "special_outpatient.no_card": "无门诊特殊病证 no special-disease card",
}
FUND_LABELS: dict[str, str] = {
    "fund_pay": "基本医保统筹基金 pooled fund",
    "catastrophic_pay": "大病保险 catastrophic insurance",
    "personal_pay": "个人负担 own payments",
}
TABLES = ("by_benefit", "by_fund", "by_prefecture", "by_month", "by_age_band", "by_group")


def percent(num: int, den: int, digits: int = 2) -> str | None:
    """``num / den`` as a percentage string with ``digits`` decimals, half up; None when ``den`` is 0."""
    if den == 0:
        return None
    scaled = div_half_up(num * 100 * 10**digits, den)
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}%" if digits else f"{sign}{whole}%"


def _row(key: str, label: str, v: I64) -> dict[str, Any]:
    """One table line from a vector of MEASURES."""
    m = {name: int(x) for name, x in zip(MEASURES, v, strict=True)}
    row: dict[str, Any] = {
        "key": key,
        "label": label,
        "claims": m["claims"],
        "refused": m["refused"],
        "reformed": m["reformed"],
    }
    row.update({k: format_yuan(m[k]) for k in MONEY})
    # 实际报销比：基金与大病保险支付之和占医保范围内费用的比例 / share of in-scope cost paid by the funds.
    row["paid_share_of_in_scope"] = percent(m["fund_pay"] + m["catastrophic_pay"], m["in_scope"])
    return row


def _funds(v: I64) -> int:
    """What both funds paid (pooled fund and catastrophic insurance) in a vector of MEASURES."""
    return int(v[MEASURES.index("fund_pay")] + v[MEASURES.index("catastrophic_pay")])


def _insured_line(row: dict[str, Any], insured: int, persons: int, fund: int) -> dict[str, Any]:
    row["insured_residents"] = insured
    row["persons_with_claims"] = persons
    row["fund_per_insured"] = format_yuan(div_half_up(fund, insured)) if insured else None
    return row


def _tables(t: Tally, months: list[str], insured: I64) -> dict[str, list[dict[str, Any]]]:
    cube = t.cube  # [measure, kind, month, prefecture, age band, group]
    persons = t.persons[0]  # [prefecture, age band, group]
    total = cube.sum(axis=(1, 2, 3, 4, 5))
    funds = _funds
    by_pref = cube.sum(axis=(1, 2, 4, 5))
    by_age = cube.sum(axis=(1, 2, 3, 5))
    by_group = cube.sum(axis=(1, 2, 3, 4))
    return {
        "by_benefit": [_row(k, KIND_LABELS[k], v) for k, v in zip(KINDS, cube.sum(axis=(2, 3, 4, 5)).T, strict=True)],
        "by_fund": [
            {
                "key": k,
                "label": label,
                "amount": format_yuan(int(total[MEASURES.index(k)])),
                "share_of_total": percent(int(total[MEASURES.index(k)]), int(total[MEASURES.index("total")])),
            }
            for k, label in FUND_LABELS.items()
        ],
        "by_prefecture": [
            _insured_line(
                _row(c, REGIONS[c], by_pref[:, i]), int(insured[i].sum()), int(persons[i].sum()), funds(by_pref[:, i])
            )
            for i, c in enumerate(PREFECTURES)
        ],
        "by_month": [_row(m, m, v) for m, v in zip(months, cube.sum(axis=(1, 3, 4, 5)).T, strict=True)],
        "by_age_band": [
            _insured_line(
                _row(str(i), a, by_age[:, i]), int(insured[:, i].sum()), int(persons[:, i].sum()), funds(by_age[:, i])
            )
            for i, a in enumerate(AGE_LABELS)
        ],
        "by_group": [
            _insured_line(
                _row(str(i), g, by_group[:, i]),
                int(insured[:, :, i].sum()),
                int(persons[:, :, i].sum()),
                funds(by_group[:, i]),
            )
            for i, g in enumerate(GROUP_LABELS)
        ],
    }


def _out_of_pocket(personal: OwnPayments, t: Tally, insured: int) -> dict[str, Any]:
    """Own payments per person-year."""
    n = len(personal)
    over = int(t.persons[PERSON_MEASURES.index("over_threshold")].sum())
    out: dict[str, Any] = {
        "persons_with_claims": n,
        "mean": format_yuan(div_half_up(personal.total(), n)) if n else None,
        "max": format_yuan(personal.largest()) if n else None,
        # Percentiles are values of the data (the smallest value with at least q% of person-years at or below it).
        "percentiles": {name: format_yuan(personal.percentile(q)) if n else None for name, q in PERCENTILES},
        "over_catastrophic_threshold": {
            "persons": over,
            "share_of_persons_with_claims": percent(over, n),
            "share_of_insured_residents": percent(over, insured),
        },
    }
    return out


def _bands(t: Tally, pack: Pack, end: date) -> dict[str, Any]:
    scale, threshold = scale_of(pack, end)
    rows = []
    for i, lo in enumerate(scale.thresholds):
        hi = scale.thresholds[i + 1] if i + 1 < len(scale.thresholds) else None
        rate = Fraction(scale.numerators[i], scale.denominator)
        rows.append(
            {
                "band": f"{format_yuan(threshold + lo)}–{format_yuan(threshold + hi) if hi is not None else ''}",
                "rate": percent(rate.numerator, rate.denominator, 0),
                "persons_reaching": int(t.band_persons[i]),
                "burden_in_band": format_yuan(int(t.band_burden[i])),
                "pay": format_yuan(div_half_up(int(t.band_pay[i]), scale.denominator)),
            }
        )
    paid = int(t.cube[MEASURES.index("catastrophic_pay")].sum())
    exact = div_half_up(int(t.band_pay.sum()), scale.denominator)
    return {
        "threshold": format_yuan(threshold),
        "bands": rows,
        "paid": format_yuan(paid),
        # Each stay's pay is rounded to the fen, the bands' sum only once: they differ by at most half a fen a stay.
        "rounding_difference": format_yuan(paid - exact),
    }


def _ceiling(t: Tally, pack: Pack, end: date) -> dict[str, Any]:
    at = t.persons[PERSON_MEASURES.index("at_ceiling")]
    persons = int(t.persons[0].sum())
    return {
        "ceiling": format_yuan(pack.at(end).money("resident.fund_ceiling")),
        "persons": int(at.sum()),
        "share_of_persons_with_claims": percent(int(at.sum()), persons),
        "by_prefecture": {c: int(at[i].sum()) for i, c in enumerate(PREFECTURES)},
    }


def policy_sources(pack: Pack, on: date) -> list[dict[str, Any]]:
    """Each policy parameter the settlement used: cited, assumed, or set by which overlay."""
    out = []
    for path in POLICY_PATHS:
        pv = pack.at(on).get(path)
        c = pv.citation
        out.append(
            {
                "path": path,
                "from": pv.start.isoformat(),
                "source": c.source,
                "assumed": c.assumed,
                "overlay": c.overlay,
                "example": c.example,
                "reform": c.reform,
            }
        )
    return out


def shape_sources(shape: Shape) -> list[dict[str, Any]]:
    """Each shape parameter of the synthetic province with its source or its assumption."""
    return [
        {"name": name, "description": p.description, "source": p.source, "url": p.url, "assumed": p.assumed}
        for name, p in ((n, getattr(shape.parameters, n)) for n in type(shape.parameters).model_fields)
    ]


def build_report(outcome: Outcome, i: int, shape: Shape | None) -> dict[str, Any]:
    """The report of scenario ``i`` of a settled year, JSON-ready."""
    sc: Scenario = outcome.scenarios[i]
    t = outcome.tallies[i]
    pack = sc.pack
    frame = outcome.frame
    insured = np.array(outcome.manifest["insured"]["residents"], dtype=np.int64)
    employees = int(np.sum(outcome.manifest["insured"]["employees"]))
    total = t.cube.sum(axis=(1, 2, 3, 4, 5))
    overview = _row("all", "合计 all", total)
    overview.update(
        {
            "insured_residents": int(insured.sum()),
            "insured_employees": employees,
            "persons_with_claims": int(t.persons[0].sum()),
            "fund_per_insured": format_yuan(div_half_up(_funds(total), int(insured.sum()))) if insured.sum() else None,
        }
    )
    report: dict[str, Any] = {
        "title": "云南省城乡居民医保基金年度测算 / Yunnan resident medical insurance: a simulated year",
        "scenario": {
            "name": sc.name,
            "overlay": sc.reform,
            "overlays": list(pack.overlays),
            "reforms": [{"name": r.name, "title": r.title} for r in pack.reforms],
        },
        "benefit_year": frame.to_dict(),
        "data": {
            "claims": outcome.rows,
            "seed": outcome.manifest["seed"],
            "population": outcome.manifest["population"],
            "shape_sha256": outcome.manifest["shape_sha256"],
            "note": "职工医保参保人只计人数：政策参数包未给职工医保待遇规则，理赔只含城乡居民 / employees are counted, "
            "not settled: the pack gives no employee benefit rules, so claims are residents' only",
        },
        "overview": overview,
        **_tables(t, frame.months, insured),
        "refusals": [
            {
                "code": code or "paid",
                "label": REFUSAL_LABELS[code],
                "claims": int(v[0]),
                "total": format_yuan(int(v[1])),
            }
            for code, v in zip(REFUSALS, t.refusals, strict=True)
        ],
        "out_of_pocket": _out_of_pocket(outcome.personal[i], t, int(insured.sum())),
        "catastrophic": _bands(t, pack, frame.end),
        "fund_ceiling": _ceiling(t, pack, frame.end),
        "policy": policy_sources(pack, frame.start),
    }
    if shape is not None:
        report["shape"] = shape_sources(shape)
    return report


def write_tables(report: dict[str, Any], folder: Path) -> list[Path]:
    """Each table of the report as a CSV file in ``folder``; returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    tables: dict[str, list[dict[str, Any]]] = {name: report[name] for name in TABLES if name in report}
    if "refusals" in report:
        tables["refusals"] = report["refusals"]
    if "catastrophic" in report:
        tables["catastrophic_bands"] = report["catastrophic"]["bands"]
    for extra in ("lines", "gainers_by_prefecture", "gainers_by_group", "gainers_by_age_band"):
        if extra in report:
            tables[extra] = report[extra]
    for name, rows in tables.items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            if rows:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        files.append(path)
    return files
