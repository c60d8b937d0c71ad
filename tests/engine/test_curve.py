"""The calculator's curve: the batch engine at many totals gives what the scalar engine gives claim by claim."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from yibao.core.money import mul_ratio
from yibao.engine import decide, parse_claim
from yibao.engine.curve import pay_curve, supports
from yibao.policy.loader import get_pack

PERSON = {"birth_date": "1970-05-20", "sex": "F", "group": "general"}
CLAIMS: dict[str, dict[str, Any]] = {
    "inpatient": {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": "2016-03-01",
        "person": PERSON,
        "hospital_level": 3,
        "total": "12000.00",
        "in_scope": "10000.00",
        "class_b": "1000.00",
    },
    "offsite": {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": "2016-03-01",
        "person": PERSON,
        "offsite": "referral",
        "total": "5000.00",
        "in_scope": "4000.00",
    },
    "general": {
        "scheme": "resident",
        "benefit": "general_outpatient",
        "date": "2016-05-10",
        "person": PERSON,
        "facility": "community_health_center",
        "total": "120.00",
        "in_scope": "100.00",
    },
}


def _at(claim: dict[str, Any], total: int, in_scope: int, class_b: int) -> dict[str, Any]:
    out = {**claim, "total": f"{total // 100}.{total % 100:02d}", "in_scope": f"{in_scope // 100}.{in_scope % 100:02d}"}
    if "class_b" in claim:
        out["class_b"] = f"{class_b // 100}.{class_b % 100:02d}"
    return out


@pytest.mark.parametrize("name", list(CLAIMS))
def test_curve_equals_the_scalar_engine_at_every_point(name: str) -> None:
    claim = parse_claim(CLAIMS[name])
    assert supports(claim)
    curve = pay_curve(claim, get_pack(), top=40_000_000, steps=40)
    assert len(curve.totals) == 41 and curve.totals[0] == 0 and curve.totals[-1] == 40_000_000
    b = getattr(claim, "class_b", 0)
    for i, total in enumerate(curve.totals):
        in_scope = mul_ratio(total, Fraction(claim.in_scope, claim.total))
        class_b = mul_ratio(in_scope, Fraction(b, claim.in_scope)) if b else 0
        d = decide(parse_claim(_at(CLAIMS[name], total, in_scope, class_b)))
        assert (curve.fund[i], curve.catastrophic[i], curve.personal[i]) == (
            d.fund_pay,
            d.catastrophic_pay,
            d.personal_pay,
        ), (name, total)


def test_the_ceiling_and_catastrophic_cover_show_on_the_inpatient_curve() -> None:
    curve = pay_curve(parse_claim(CLAIMS["inpatient"]), get_pack())
    assert max(curve.fund) == 16_000_000  # the yearly fund ceiling (seed 003: 16万元)
    assert curve.catastrophic[0] == 0 and curve.catastrophic[-1] > 0
    assert all(
        f + c + p == t for f, c, p, t in zip(curve.fund, curve.catastrophic, curve.personal, curve.totals, strict=True)
    )


def test_year_to_date_amounts_are_flagged_not_used() -> None:
    claim = parse_claim({**CLAIMS["inpatient"], "ytd": {"fund_paid": "1000.00", "catastrophic_base": "0.00"}})
    assert pay_curve(claim, get_pack(), steps=2).ytd_ignored


def test_subsidies_have_no_curve() -> None:
    claim = parse_claim(
        {
            "scheme": "resident",
            "benefit": "maternity",
            "date": "2016-03-20",
            "person": PERSON,
            "delivery": "natural",
            "discharge_date": "2016-03-10",
            "family_planning": True,
            "documents_complete": True,
        }
    )
    assert not supports(claim)
