"""The engine's contract: explanations with citations, assumptions, refusals, bad input, CLI and API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from yibao.core.errors import ValidationFailed
from yibao.engine import decide_json
from yibao.policy.loader import SOURCES_DIR


def inpatient(**over: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": "2016-03-01",
        "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
        "hospital_level": 3,
        "total": "12000.00",
        "in_scope": "10000.00",
        "class_b": "1000.00",
    }
    claim.update(over)
    return claim


def test_level3_stay_worked_example() -> None:
    # prepay 1000 x 10% = 100; base 10000 - 100 - 600 = 9300; fund 9300 x 70% = 6510
    # burden 10000 - 6510 = 3490 < 20000: no catastrophic; personal 12000 - 6510 = 5490
    d = decide_json(inpatient())
    assert (d["fund_pay"], d["catastrophic_pay"], d["personal_pay"]) == ("6510.00", "0.00", "5490.00")
    assert d["refused"] is None
    assert d["ytd_after"] == {"fund_paid": "6510.00", "catastrophic_base": "3490.00"}


def test_every_step_cites_its_parameters_verbatim() -> None:
    d = decide_json(inpatient())
    rules = [s["rule"] for s in d["steps"]]
    assert "resident.inpatient.deductible" in rules and "resident.catastrophic" in rules
    sources = {p.name: p.read_text(encoding="utf-8") for p in SOURCES_DIR.glob("*.txt")}
    cited = 0
    for step in d["steps"]:
        for p in step["params"]:
            assert p["effective_from"]
            if p.get("assumed") or p.get("overlay"):
                continue
            for part in p["quote"].split("……"):
                assert part in sources[p["source"]]
            cited += 1
    assert cited >= 4


def test_assumed_class_b_ratio_is_listed() -> None:
    d = decide_json(inpatient())
    paths = [a["path"] for a in d["assumptions"]]
    assert "resident.inpatient.class_b_prepay_ratio" in paths
    assert all(a["kind"] in ("assumed", "overlay") for a in d["assumptions"])


def test_overlay_values_are_listed_as_assumptions() -> None:
    d = decide_json(
        {
            "scheme": "resident",
            "benefit": "special_outpatient",
            "date": "2016-03-01",
            "person": {"birth_date": "1950-01-01", "sex": "M"},
            "disease": "diabetes",
            "card": True,
            "total": "300.00",
            "in_scope": "300.00",
        }
    )
    kinds = {a["path"]: a["kind"] for a in d["assumptions"]}
    assert kinds["resident.special_outpatient.monthly_limit[diabetes]"] == "overlay"


def test_refusal_pays_nothing_and_says_why() -> None:
    d = decide_json(inpatient(designated=False))
    assert d["refused"]["code"] == "inpatient.not_designated"
    assert d["refused"]["message"] and d["refused"]["message_en"]
    assert (d["fund_pay"], d["catastrophic_pay"], d["personal_pay"]) == ("0.00", "0.00", "12000.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total": 12000.5}, "total"),
        ({"in_scope": "-1.00"}, "in_scope"),
        ({"in_scope": "13000.00"}, "in_scope"),
        ({"class_b": "10000.01"}, "class_b"),
        ({"colour": "red"}, "colour"),
        ({"date": "2014-06-01"}, "date"),
        ({"date": "2016-02-30"}, "date"),
        ({"hospital_level": 4}, "hospital_level"),
        ({"total": "1.234"}, "total"),
        ({"scheme": "employee"}, "scheme"),
        ({"benefit": "dental"}, "benefit"),
        ({"ytd": {"fund_paid": "-5.00"}}, "ytd.fund_paid"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        decide_json(inpatient(**change))
    assert err.value.field == field
    assert err.value.http_status == 422


def test_date_outside_every_policy_is_bad_input_even_when_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        decide_json(inpatient(date="2010-01-01", designated=False))
    assert err.value.field == "date"


def test_cli_reads_a_file_and_prints_json(tmp_path: Path) -> None:
    from yibao.cli.main import app

    f = tmp_path / "claim.json"
    f.write_text(json.dumps(inpatient()), encoding="utf-8")
    result = CliRunner().invoke(app, ["calc", str(f)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fund_pay"] == "6510.00"


def test_cli_reads_stdin_and_exits_2_on_bad_input() -> None:
    from yibao.cli.main import app

    runner = CliRunner()
    ok = runner.invoke(app, ["calc", "-"], input=json.dumps(inpatient()))
    assert ok.exit_code == 0
    bad = runner.invoke(app, ["calc", "-"], input=json.dumps(inpatient(total=1.5)))
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["details"]["field"] == "total"
    broken = runner.invoke(app, ["calc", "-"], input="{not json")
    assert broken.exit_code == 2


def test_api_calc_matches_cli() -> None:
    from fastapi.testclient import TestClient

    from yibao.api.app import create_app

    client = TestClient(create_app())
    r = client.post("/api/calc", json=inpatient())
    assert r.status_code == 200
    assert r.json() == decide_json(inpatient())
    bad = client.post("/api/calc", json=inpatient(in_scope="99999.00"))
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "in_scope"


def test_api_calc_answers_every_scenario_as_the_cli_does() -> None:
    """The same JSON over HTTP, citations included: an assumed value stays marked in every step that reads it."""
    from fastapi.testclient import TestClient

    from tests.engine.test_cases import CASES
    from yibao.api.app import create_app

    client = TestClient(create_app())
    claims = [case["claim"] for _, case in CASES if "error_field" not in case["expect"]]
    assert len(claims) > 20
    for claim in claims:
        r = client.post("/api/calc", json=claim)
        assert r.status_code == 200, r.text
        assert r.json() == decide_json(claim), claim
    marked = [
        p
        for claim in claims
        for step in client.post("/api/calc", json=claim).json()["steps"]
        for p in step["params"]
        if p.get("assumed") or p.get("overlay")
    ]
    assert marked and all(p.get("note") or p.get("overlay") for p in marked)


def _paths(d: dict[str, Any]) -> set[str]:
    return {a["path"] for a in d["assumptions"]}


def test_class_b_ratio_is_not_listed_without_class_b_cost() -> None:
    # With no class B cost the assumed prepay share cannot change the amount: it is not read or listed.
    d = decide_json(inpatient(class_b="0.00"))
    assert "resident.inpatient.class_b_prepay_ratio" not in _paths(d)
    assert d["assumptions"] == []
    assert d["fund_pay"] == "6580.00"  # (10000.00 - 600.00) x 70%


def ncms_stay(**over: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "scheme": "ncms",
        "benefit": "inpatient",
        "date": "2017-05-01",
        "person": {"birth_date": "1970-01-01", "sex": "F"},
        "facility": "level2",
        "drugs": "2000.00",
    }
    claim.update(over)
    return claim


@pytest.mark.parametrize(
    ("before", "listed"),
    [("17000.00", True), ("16000.00", False), ("15999.99", False), ("16000.01", True), ("30000.00", True)],
)
def test_ncms_band_above_18000_is_listed_only_when_reached(before: str, listed: bool) -> None:
    # The 70% above 18,000 is assumed: a stay whose cumulative cost passes 18,000 lists it.
    d = decide_json(ncms_stay(ytd={"inpatient_cost": before}))
    assert any(p.startswith("ncms.inpatient.risk_fund_scale") for p in _paths(d)) is listed
    assert all(a["kind"] == "assumed" for a in d["assumptions"])


def test_ncms_stay_below_every_assumed_band_lists_nothing() -> None:
    assert decide_json(ncms_stay())["assumptions"] == []


def test_ncms_elderly_compensation_lists_its_assumed_reading() -> None:
    d = decide_json(
        ncms_stay(facility="township", person={"birth_date": "1950-01-01", "sex": "M"}, others="30.00", bed_days=9)
    )
    assert _paths(d) == {"ncms.inpatient.elderly_covered_lines"}
    step = next(s for s in d["steps"] if s["rule"] == "ncms.inpatient.elderly_daily")
    assert step["amount"] == "30.00" and "30.00" in step["description"]


def offsite(**over: Any) -> dict[str, Any]:
    return inpatient(
        offsite="referral", class_b="0.00", discharge_date="2016-03-10", application_date="2016-04-10", **over
    )


def test_late_offsite_refusal_lists_the_assumed_consequence() -> None:
    late = decide_json(offsite() | {"application_date": "2016-04-11"})
    assert late["refused"]["code"] == "offsite.late_application"
    assert _paths(late) == {"resident.late_claims_refused"}
    on_time = decide_json(offsite())
    assert on_time["refused"] is None and on_time["assumptions"] == []


YTD_CASES = [
    inpatient(designated=False, ytd={"fund_paid": "100.00", "catastrophic_base": "25000.00"}),
    inpatient(offsite="emergency", filed=False, ytd={"fund_paid": "0.01", "catastrophic_base": "0.00"}),
    {
        "scheme": "resident",
        "benefit": "general_outpatient",
        "date": "2016-03-01",
        "person": {"birth_date": "1950-01-01", "sex": "M"},
        "facility": "other",
        "total": "80.00",
        "in_scope": "80.00",
        "ytd": {"fund_paid": "5000.00", "general_outpatient_paid": "120.00"},
    },
    {
        "scheme": "resident",
        "benefit": "special_outpatient",
        "date": "2016-03-01",
        "person": {"birth_date": "1950-01-01", "sex": "M"},
        "disease": "diabetes",
        "card": False,
        "total": "300.00",
        "in_scope": "300.00",
        "ytd": {"fund_paid": "7000.00", "month_used": "250.00"},
    },
]


@pytest.mark.parametrize("claim", YTD_CASES, ids=lambda c: c["benefit"])
def test_refused_claim_returns_the_accumulators_it_was_given(claim: dict[str, Any]) -> None:
    d = decide_json(claim)
    assert d["refused"] is not None
    assert (d["fund_pay"], d["catastrophic_pay"]) == ("0.00", "0.00")
    assert d["ytd_after"] == claim["ytd"]


def test_subsidy_above_the_bill_says_how_the_difference_is_treated() -> None:
    d = decide_json(
        {
            "scheme": "resident",
            "benefit": "maternity",
            "date": "2016-05-20",
            "person": {"birth_date": "1990-02-01", "sex": "F"},
            "delivery": "caesarean",
            "discharge_date": "2016-05-10",
            "family_planning": True,
            "documents_complete": True,
            "total": "1000.00",
        }
    )
    assert (d["fund_pay"], d["personal_pay"]) == ("1200.00", "0.00")
    step = d["steps"][-1]
    assert step["rule"] == "subsidy.above_bill"
    assert "1200.00" in step["description"] and "1000.00" in step["description"] and "200.00" in step["description"]
