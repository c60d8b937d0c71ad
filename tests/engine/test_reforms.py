"""Reforms: changed rules from an overlay, marked in every decision that uses them, scalar and batch alike."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from tests.engine.test_batch import _claim_dict, _rows_from_columns, _stay, _to_columns, claim_rows
from yibao.engine import decide, decide_json, parse_claim
from yibao.engine.batch import KIND_GENERAL, REFUSALS, reform_names, settle_batch
from yibao.engine.batch_cli import read_claims
from yibao.engine.benefit_year import benefit_year_start
from yibao.engine.synthetic import generate_claims
from yibao.policy.loader import OVERLAYS_DIR, load_pack
from yibao.policy.model import Pack

DEDUCTIBLE = """overlay: deductible_2016
reform: true
title: 住院起付标准上调一倍（测算）/ inpatient deductibles doubled (a trial)
values:
  resident.inpatient.deductible:
    2016-01-01:
      note: 测算方案，非现行政策 (a trial, not policy)
      table:
        level1: {general: 400, student_child: 200}
        level2: {general: 800, student_child: 400}
        level3: {general: 1200, student_child: 600}
        offsite: {general: 1200, student_child: 600}
"""

OUTPATIENT = """overlay: elderly_cap_2016
reform: true
title: 老年人普通门诊年度限额提高、大病保险分段比例提高（测算）/ higher elderly outpatient cap and catastrophic rates
values:
  resident.general_outpatient.yearly_cap_elderly:
    2016-06-01:
      value: 400
      note: 测算方案
  resident.catastrophic.scale:
    2016-06-01:
      note: 测算方案：各段比例提高5个百分点
      scale:
        - {threshold: 0, rate: 0.55}
        - {threshold: 50000, rate: 0.65}
        - {threshold: 100000, rate: 0.75}
        - {threshold: 300000, rate: 0.85}
"""

DEMO = OVERLAYS_DIR / "demo.yaml"


@pytest.fixture(scope="module")
def overlays(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("reforms")
    (d / "deductible.yaml").write_text(DEDUCTIBLE, encoding="utf-8")
    (d / "outpatient.yaml").write_text(OUTPATIENT, encoding="utf-8")
    return d / "deductible.yaml", d / "outpatient.yaml"


@pytest.fixture(scope="module")
def reformed(overlays: tuple[Path, Path]) -> Pack:
    return load_pack(overlays=[DEMO, *overlays])


def stay(day: str, **over: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": day,
        "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
        "hospital_level": 3,
        "total": "12000.00",
        "in_scope": "10000.00",
        "class_b": "1000.00",
    }
    return claim | over


def test_the_pack_knows_its_reforms(reformed: Pack) -> None:
    assert [r.name for r in reformed.reforms] == ["deductible_2016", "elderly_cap_2016"]
    assert reformed.overlays == ("demo", "deductible_2016", "elderly_cap_2016")
    history = reformed.parameter("resident.inpatient.deductible").history
    # The pack's value stays in force until the reform's first date; the reform's from then on.
    assert [(dv.start, dv.citation.reform is not None) for dv in history] == [
        (date(2015, 10, 1), False),
        (date(2016, 1, 1), True),
    ]


def test_a_decision_using_a_reformed_value_says_so(reformed: Pack) -> None:
    # Level 3, general: deductible 1,200 instead of 600. (10000 - 100 - 1200) x 70% = 6090.00.
    d = decide(parse_claim(stay("2016-03-01")), reformed).to_dict()
    assert d["fund_pay"] == "6090.00"
    assert d["reforms"] == [
        {
            "reform": "deductible_2016",
            "title": "住院起付标准上调一倍（测算）/ inpatient deductibles doubled (a trial)",
            "params": ["resident.inpatient.deductible[level3][general]"],
        }
    ]
    step = next(s for s in d["steps"] if s["rule"] == "resident.inpatient.deductible")
    (param,) = step["params"]
    assert param["overlay"] == "deductible_2016" and param["reform"].startswith("住院起付标准上调一倍")
    assert param["effective_from"] == "2016-01-01" and param["value"] == "1200.00"
    # A reformed value is a declared change, not an assumption.
    assert "resident.inpatient.deductible[level3][general]" not in {a["path"] for a in d["assumptions"]}


def test_before_the_reform_and_without_it_nothing_is_marked(reformed: Pack) -> None:
    before = decide(parse_claim(stay("2015-12-31")), reformed).to_dict()
    assert (before["fund_pay"], before["reforms"]) == ("6510.00", [])
    assert decide_json(stay("2016-03-01"))["reforms"] == []


def test_a_refused_stay_reads_no_deductible_and_names_no_reform(reformed: Pack) -> None:
    d = decide(parse_claim(stay("2016-03-01", designated=False)), reformed).to_dict()
    assert d["refused"]["code"] == "inpatient.not_designated" and d["reforms"] == []


def test_a_reformed_scale_marks_the_stays_that_reach_it(reformed: Pack) -> None:
    # 2016-07-01: deductible and scale both reformed. In-scope 60,000 at level 3: fund (60000 - 1200) x 70%
    # = 41,160; burden 18,840 below the 20,000 threshold: the scale is read (and marked) but pays nothing.
    d = decide(parse_claim(stay("2016-07-01", total="60000.00", in_scope="60000.00", class_b="0.00")), reformed)
    out = d.to_dict()
    assert out["fund_pay"] == "41160.00" and out["catastrophic_pay"] == "0.00"
    assert [r["reform"] for r in out["reforms"]] == ["deductible_2016", "elderly_cap_2016"]
    assert out["reforms"][1]["params"] == ["resident.catastrophic.scale"]


def _scalar(rows: list[dict[str, Any]], pack: Pack) -> list[tuple[int, int, str | None, tuple[str, ...]]]:
    years: dict[tuple[int, date], dict[str, int]] = defaultdict(
        lambda: {"fund_paid": 0, "catastrophic_base": 0, "general": 0}
    )
    months: dict[tuple[int, int, int, int], int] = defaultdict(int)
    out = []
    for r in rows:
        acc = years[(r["person_id"], benefit_year_start(r["date"], pack))]
        mkey = (r["person_id"], r["disease"], r["date"].year, r["date"].month)
        d = decide(parse_claim(_claim_dict(r, {**acc, "month": months[mkey]})), pack)
        acc["fund_paid"] = d.ytd_after["fund_paid"]
        acc["catastrophic_base"] = d.ytd_after.get("catastrophic_base", acc["catastrophic_base"])
        acc["general"] = d.ytd_after.get("general_outpatient_paid", acc["general"])
        if "month_used" in d.ytd_after:
            months[mkey] = d.ytd_after["month_used"]
        names = tuple(x["reform"] for x in d.reforms())
        out.append((d.fund_pay, d.catastrophic_pay, d.refused.code if d.refused else None, names))
    return out


def _batch(rows: list[dict[str, Any]], pack: Pack) -> list[tuple[int, int, str | None, tuple[str, ...]]]:
    res = settle_batch(_to_columns(rows), pack)
    return [
        (int(f), int(c), REFUSALS[int(x)] or None, reform_names(pack, int(m)))
        for f, c, x, m in zip(res["fund_pay"], res["catastrophic_pay"], res["refused"], res["reforms"], strict=True)
    ]


def test_batch_and_scalar_agree_under_reforms_on_synthetic_claims(reformed: Pack) -> None:
    rows = _rows_from_columns(generate_claims(3000, seed=5))
    scalar = _scalar(rows, reformed)
    assert _batch(rows, reformed) == scalar
    named = {names for *_, names in scalar}
    # Both reforms, alone and together, and claims with none (refused, or before 2016): all occur.
    assert {(), ("deductible_2016",), ("deductible_2016", "elderly_cap_2016")} <= named
    assert ("elderly_cap_2016",) in named  # an elderly general outpatient visit after June 2016


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(claim_rows())
def test_batch_and_scalar_agree_under_reforms(reformed: Pack, rows: list[dict[str, Any]]) -> None:
    assert _batch(rows, reformed) == _scalar(rows, reformed)


def test_an_elderly_visit_names_the_outpatient_reform_only(reformed: Pack) -> None:
    # A man of 70 on 2016-07-01: the elderly cap (400.00 by the reform) is read; no inpatient parameter is.
    row = _stay(3, date(2016, 7, 1), 10_000)
    row.update(kind=KIND_GENERAL, birth_date=date(1946, 1, 1))
    assert _batch([row], reformed) == _scalar([row], reformed) == [(4000, 0, None, ("elderly_cap_2016",))]


def test_without_reforms_the_batch_marks_nothing() -> None:
    res = settle_batch(generate_claims(500, seed=3), load_pack(overlays=[DEMO]))
    assert not res["reforms"].any()


def test_calc_and_batch_take_an_overlay_on_the_command_line(overlays: tuple[Path, Path], tmp_path: Path) -> None:
    from yibao.cli.main import app

    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps(stay("2016-03-01")), encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["calc", str(claim), "--overlay", str(overlays[0])])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["fund_pay"] == "6090.00" and [x["reform"] for x in out["reforms"]] == ["deductible_2016"]
    assert json.loads(runner.invoke(app, ["calc", str(claim)]).stdout)["fund_pay"] == "6510.00"

    claims, decisions = tmp_path / "claims.parquet", tmp_path / "decisions.parquet"
    assert runner.invoke(app, ["batch", "generate", "--claims", "400", "--out", str(claims)]).exit_code == 0
    r = runner.invoke(app, ["batch", "settle", str(claims), "--out", str(decisions), "--overlay", str(overlays[0])])
    assert r.exit_code == 0, r.output
    table = pq.read_table(decisions)
    marked = table.column("reforms").to_pylist()
    assert set(marked) <= {None, "deductible_2016"} and "deductible_2016" in marked
    cols, _ = read_claims(claims)
    with_reform = settle_batch(cols, load_pack(overlays=[DEMO, overlays[0]]))
    assert np.array_equal(table.column("fund_pay").to_numpy(), with_reform["fund_pay"])
    assert not np.array_equal(with_reform["fund_pay"], settle_batch(cols, load_pack(overlays=[DEMO]))["fund_pay"])
