"""Money invariants of every benefit and scheme on generated claims (Hypothesis).

For any valid claim: no amount is negative; the fund and catastrophic cover never pay more than the
bill (except a fixed subsidy whose step says so); ``personal_pay = total - fund_pay - catastrophic_pay``
wherever the contract says so; a refused claim pays nothing and hands back its accumulators; accumulators
never decrease and never pass their caps, over any sequence of claims; and ``assumptions`` lists exactly
the assumed values read on the path that produced the amounts (no more: changing any other assumed value
leaves the decision unchanged).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.core.dates import age_on
from yibao.core.money import format_yuan, parse_yuan
from yibao.engine import decide, parse_claim
from yibao.engine.explain import Decision
from yibao.policy.loader import get_pack
from yibao.policy.model import Bracket, ListItem, Pack, Parameter

PACK = get_pack()
RESIDENT_FROM, NCMS_FROM, LAST = date(2015, 10, 1), date(2017, 1, 1), date(2024, 12, 31)
DISEASES = [d.code for d in PACK.at(RESIDENT_FROM).get("resident.special_outpatient.diseases").value]
SUBSIDIES = ("maternity", "disability_aid")
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def yuan(fen: int) -> str:
    return format_yuan(fen)


def fen(draw: st.DrawFn, high: int) -> int:
    """An amount in fen, often small or round, sometimes up to ``high``."""
    return draw(st.one_of(st.just(0), st.integers(0, 10_000), st.integers(0, high)))


def near(draw: st.DrawFn, *points: int, spread: int = 300_000) -> int:
    """An amount in fen close to one of ``points`` (thresholds, caps), or zero."""
    point = draw(st.sampled_from(points))
    return max(0, point + draw(st.integers(-spread, spread)))


@st.composite
def person(draw: st.DrawFn, on: date) -> dict[str, Any]:
    # Newborns, children around their 7th and 18th birthdays, and the elderly are all frequent.
    days = st.one_of(st.integers(0, 400), st.integers(6 * 365, 20 * 366), st.integers(0, 95 * 366))
    birth = on - timedelta(days=draw(days | st.integers(54 * 365, 95 * 366)))
    p: dict[str, Any] = {
        "birth_date": birth.isoformat(),
        "sex": draw(st.sampled_from(["M", "F"])),
        "group": draw(st.sampled_from(["general", "general", "student_child"])),
    }
    if draw(st.booleans()):
        p["enrolment_date"] = (birth + timedelta(days=draw(st.integers(0, 200)))).isoformat()
    return p


@st.composite
def resident_inpatient(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(RESIDENT_FROM, LAST))
    in_scope = fen(draw, 80_000_000)
    c: dict[str, Any] = {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "hospital_level": draw(st.integers(1, 3)),
        "offsite": draw(st.sampled_from(["none", "none", "none", "referral", "emergency"])),
        "filed": draw(st.just(True) | st.booleans()),
        "designated": draw(st.just(True) | st.booleans()),
        "admission_registered": draw(st.just(True) | st.booleans()),
        "congenital": draw(st.booleans()),
        "total": yuan(in_scope + fen(draw, 5_000_000)),
        "in_scope": yuan(in_scope),
        "class_b": yuan(draw(st.one_of(st.just(0), st.integers(0, in_scope)))),
        "ytd": {
            "fund_paid": yuan(near(draw, 0, 15_900_000, 16_000_000)),
            "catastrophic_base": yuan(near(draw, 0, 2_000_000, 7_000_000, 12_000_000, 32_000_000, spread=3_000_000)),
        },
    }
    if draw(st.booleans()):
        c["filing_date"] = (day + timedelta(days=draw(st.integers(0, 6)))).isoformat()
    if draw(st.booleans()):
        discharge = day + timedelta(days=draw(st.integers(0, 60)))
        c["discharge_date"] = discharge.isoformat()
        if draw(st.booleans()):
            c["application_date"] = (discharge + timedelta(days=draw(st.integers(0, 70)))).isoformat()
    return c


@st.composite
def general_outpatient(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(RESIDENT_FROM, LAST))
    in_scope = fen(draw, 100_000)
    return {
        "scheme": "resident",
        "benefit": "general_outpatient",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "facility": draw(st.sampled_from(["community_health_center", "community_health_center", "other"])),
        "total": yuan(in_scope + fen(draw, 50_000)),
        "in_scope": yuan(in_scope),
        "ytd": {
            "fund_paid": yuan(near(draw, 0, 16_000_000, spread=20_000)),
            "general_outpatient_paid": yuan(draw(st.integers(0, 16_000))),
        },
    }


@st.composite
def special_outpatient(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(RESIDENT_FROM, LAST))
    in_scope = fen(draw, 1_000_000)
    return {
        "scheme": "resident",
        "benefit": "special_outpatient",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "disease": draw(st.sampled_from(DISEASES)),
        "card": draw(st.just(True) | st.booleans()),
        "total": yuan(in_scope + fen(draw, 50_000)),
        "in_scope": yuan(in_scope),
        "ytd": {
            "fund_paid": yuan(near(draw, 0, 16_000_000, spread=20_000)),
            "month_used": yuan(draw(st.integers(0, 500_000))),
        },
    }


@st.composite
def maternity(draw: st.DrawFn) -> dict[str, Any]:
    discharge = draw(st.dates(RESIDENT_FROM, LAST - timedelta(days=60)))
    day = discharge + timedelta(days=draw(st.integers(0, 45)))
    c: dict[str, Any] = {
        "scheme": "resident",
        "benefit": "maternity",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "delivery": draw(st.sampled_from(["natural", "caesarean"])),
        "discharge_date": discharge.isoformat(),
        "family_planning": draw(st.just(True) | st.booleans()),
        "documents_complete": draw(st.just(True) | st.booleans()),
    }
    if draw(st.booleans()):
        c["total"] = yuan(fen(draw, 500_000))
    return c


@st.composite
def disability_aid(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(RESIDENT_FROM, LAST))
    c: dict[str, Any] = {
        "scheme": "resident",
        "benefit": "disability_aid",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "device": draw(st.sampled_from(["thigh_prosthesis", "lower_leg_prosthesis", "hearing_aid"])),
        "certificate": draw(st.booleans()),
        "designated": draw(st.just(True) | st.booleans()),
        "quantity": draw(st.integers(1, 2)),
        "last_subsidy_date": None,
    }
    if draw(st.booleans()):
        c["last_subsidy_date"] = (day - timedelta(days=draw(st.integers(0, 3000)))).isoformat()
    if draw(st.booleans()):
        c["total"] = yuan(fen(draw, 1_000_000))
    return c


@st.composite
def ncms_outpatient(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(NCMS_FROM, LAST))
    return {
        "scheme": "ncms",
        "benefit": "outpatient",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "facility": draw(st.sampled_from(["village_clinic", "township", "level2", "level3"])),
        "drugs": yuan(fen(draw, 100_000)),
        "exams": yuan(fen(draw, 50_000)),
        "surgery": yuan(fen(draw, 50_000)),
        "tcm_cost": yuan(fen(draw, 20_000)),
        "tcm_doses": draw(st.integers(0, 60)),
        "tcm_prescription": draw(st.booleans()),
        "iv_prescription": draw(st.booleans()),
        "others": yuan(fen(draw, 20_000)),
        "dialysis_or_tumour": draw(st.booleans()),
        "ytd": {
            "outpatient_paid": yuan(near(draw, 0, 500_000, spread=20_000)),
            "fund_paid": yuan(near(draw, 0, 1_100_000, spread=20_000)),
        },
    }


@st.composite
def ncms_inpatient(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(NCMS_FROM, LAST))
    return {
        "scheme": "ncms",
        "benefit": "inpatient",
        "date": day.isoformat(),
        "person": draw(person(day)),
        "facility": draw(st.sampled_from(["township", "township", "level2", "level3"])),
        "drugs": yuan(fen(draw, 3_000_000)),
        "exams": yuan(fen(draw, 100_000)),
        "surgery": yuan(fen(draw, 300_000)),
        "others": yuan(fen(draw, 100_000)),
        "bed_days": draw(st.integers(0, 60)),
        "ytd": {
            "inpatient_cost": yuan(near(draw, 0, 500_000, 1_000_000, 1_800_000, 2_500_000)),
            "fund_paid": yuan(near(draw, 0, 1_000_000, 1_100_000, spread=100_000)),
        },
    }


STRATEGIES = {
    ("resident", "inpatient"): resident_inpatient(),
    ("resident", "general_outpatient"): general_outpatient(),
    ("resident", "special_outpatient"): special_outpatient(),
    ("resident", "maternity"): maternity(),
    ("resident", "disability_aid"): disability_aid(),
    ("ncms", "outpatient"): ncms_outpatient(),
    ("ncms", "inpatient"): ncms_inpatient(),
}
BENEFITS = pytest.mark.parametrize("benefit", list(STRATEGIES), ids="/".join)


def given_ytd(claim: dict[str, Any]) -> dict[str, int]:
    """The accumulators the claim brings, in fen, with the model's defaults filled in."""
    model = parse_claim(claim)
    ytd = getattr(model, "ytd", None)
    return {} if ytd is None else dict(ytd)


def total_of(claim: dict[str, Any]) -> int | None:
    model = parse_claim(claim)
    total: int | None = model.total
    return total


def above_bill_step(d: Decision) -> bool:
    return any(s.rule == "subsidy.above_bill" for s in d.steps)


# --- one claim -------------------------------------------------------------------------------


@BENEFITS
@PROPERTY
@given(data=st.data())
def test_amounts_are_never_negative_and_never_above_the_bill(benefit: tuple[str, str], data: st.DataObject) -> None:
    claim = data.draw(STRATEGIES[benefit])
    d = decide(parse_claim(claim), PACK)
    assert d.fund_pay >= 0 and d.catastrophic_pay >= 0 and d.personal_pay >= 0
    total = total_of(claim)
    if total is None:
        assert claim["benefit"] in SUBSIDIES and d.personal_pay == 0
        return
    if d.fund_pay + d.catastrophic_pay > total:
        # Only a fixed subsidy may pay more than the bill, and its step says how the difference is treated.
        assert claim["benefit"] in SUBSIDIES and above_bill_step(d) and d.personal_pay == 0
    else:
        assert not above_bill_step(d)
        assert d.personal_pay == total - d.fund_pay - d.catastrophic_pay


@BENEFITS
@PROPERTY
@given(data=st.data())
def test_refused_claims_pay_nothing_and_keep_their_accumulators(benefit: tuple[str, str], data: st.DataObject) -> None:
    claim = data.draw(STRATEGIES[benefit])
    d = decide(parse_claim(claim), PACK)
    if d.refused is None:
        return
    assert d.fund_pay == 0 and d.catastrophic_pay == 0
    assert d.ytd_after == given_ytd(claim)
    assert d.steps[-1].rule == f"refusal.{d.refused.code}"


def _caps(claim: dict[str, Any], d: Decision) -> dict[str, int | None]:
    """Each accumulator's cap on the date of service (None: no cap)."""
    view = PACK.at(date.fromisoformat(claim["date"]))
    benefit = (claim["scheme"], claim["benefit"])
    if benefit == ("ncms", "outpatient"):
        return {
            "outpatient_paid": view.get("ncms.outpatient.yearly_cap").value,
            "fund_paid": view.get("ncms.yearly_cap").value,
        }
    if benefit == ("ncms", "inpatient"):
        return {"inpatient_cost": None, "fund_paid": view.get("ncms.yearly_cap").value}
    caps: dict[str, int | None] = {"fund_paid": view.get("resident.fund_ceiling").value, "catastrophic_base": None}
    if benefit == ("resident", "general_outpatient"):
        caps["general_outpatient_paid"] = view.get("resident.general_outpatient.yearly_cap_elderly").value
    if benefit == ("resident", "special_outpatient"):
        caps["month_used"] = view.get("resident.special_outpatient.monthly_limit").value[claim["disease"]]
    return caps


@BENEFITS
@PROPERTY
@given(data=st.data())
def test_accumulators_never_decrease_and_never_pass_their_caps(benefit: tuple[str, str], data: st.DataObject) -> None:
    claim = data.draw(STRATEGIES[benefit])
    d = decide(parse_claim(claim), PACK)
    before = given_ytd(claim)
    assert set(d.ytd_after) == set(before)
    caps = _caps(claim, d)
    for key, after in d.ytd_after.items():
        assert after >= before[key], key
        cap = caps[key]
        if cap is not None and before[key] <= cap:
            assert after <= cap, key
    # What the fund paid is what the fund accumulators grew by.
    paid_keys = {"fund_paid", "general_outpatient_paid"} if claim["scheme"] == "resident" else set()
    if claim["scheme"] == "ncms":
        paid_keys = {
            "fund_paid" if claim["benefit"] == "inpatient" or claim["dialysis_or_tumour"] else "outpatient_paid"
        }
    for key in paid_keys & set(before):
        assert d.ytd_after[key] - before[key] == d.fund_pay, key


# --- assumptions -----------------------------------------------------------------------------


def expected_assumptions(claim: dict[str, Any], d: Decision) -> set[str]:
    """The assumed values the amounts depend on, worked out from the claim (not from the steps)."""
    view = PACK.at(date.fromisoformat(claim["date"]))
    benefit = (claim["scheme"], claim["benefit"])
    code = d.refused.code if d.refused else None
    if benefit == ("resident", "inpatient"):
        if code in ("offsite.late_application", "newborn.late_claim"):
            return {"resident.late_claims_refused"}
        if code is None and parse_yuan(claim["class_b"]) > 0:
            return {"resident.inpatient.class_b_prepay_ratio"}
        return set()
    if benefit == ("resident", "special_outpatient"):
        if code is None:
            return {f"resident.special_outpatient.{p}[{claim['disease']}]" for p in ("monthly_limit", "ratio")}
        return set()
    if benefit == ("ncms", "inpatient"):
        out: set[str] = set()
        exams = min(parse_yuan(claim["exams"]), view.get("ncms.inpatient.exam_cap").value)
        surgery = min(parse_yuan(claim["surgery"]), view.get("ncms.inpatient.surgery_cap").value)
        cost = parse_yuan(claim["drugs"]) + exams + surgery
        before = parse_yuan(claim["ytd"]["inpatient_cost"])
        for b in view.get("ncms.inpatient.risk_fund_scale").value:
            if b.citation is not None and b.citation.assumed and cost > 0 and before + cost > b.threshold:
                out.add(f"ncms.inpatient.risk_fund_scale[{format_yuan(b.threshold)}]")
        born = date.fromisoformat(claim["person"]["birth_date"])
        old = age_on(born, view.on) >= view.get("ncms.inpatient.elderly_age").value
        if claim["facility"] == "township" and old:
            out.add("ncms.inpatient.elderly_covered_lines")
        return out
    return set()


def _variant(pack: Pack, path: str, value: Any) -> Pack:
    """The pack with one parameter's every dated value replaced."""
    param: Parameter = pack.parameters[path]
    history = tuple(replace(dv, value=value(dv.value)) for dv in param.history)
    params = dict(pack.parameters)
    params[path] = replace(param, history=history)
    return replace(pack, parameters=MappingProxyType(params))


def _last_band(brackets: tuple[Bracket, ...]) -> tuple[Bracket, ...]:
    return tuple(replace(b, rate=Fraction(1, 2)) if b.citation is not None else b for b in brackets)


# Each assumed or overlay parameter the engine can read, changed to another plausible value.
VARIANTS = {
    "resident.inpatient.class_b_prepay_ratio": _variant(
        PACK, "resident.inpatient.class_b_prepay_ratio", lambda v: Fraction(3, 10)
    ),
    "resident.late_claims_refused": _variant(PACK, "resident.late_claims_refused", lambda v: ()),
    "ncms.inpatient.elderly_covered_lines": _variant(
        PACK, "ncms.inpatient.elderly_covered_lines", lambda v: (ListItem("drugs", "药费"),)
    ),
    "ncms.inpatient.risk_fund_scale": _variant(PACK, "ncms.inpatient.risk_fund_scale", _last_band),
    "resident.special_outpatient.monthly_limit": _variant(
        PACK, "resident.special_outpatient.monthly_limit", lambda v: MappingProxyType({k: x * 2 for k, x in v.items()})
    ),
    "resident.special_outpatient.ratio": _variant(
        PACK, "resident.special_outpatient.ratio", lambda v: MappingProxyType({k: Fraction(1, 3) for k in v})
    ),
}


def _outcome(d: Decision) -> tuple[Any, ...]:
    return (d.fund_pay, d.catastrophic_pay, d.personal_pay, d.refused, d.ytd_after)


def test_every_assumed_value_of_the_pack_has_a_variant() -> None:
    # A new assumed parameter must be added to VARIANTS, so that the property below covers it.
    assumed = {
        p.path
        for p in PACK.parameters.values()
        if p.overlay_slot
        or any(dv.citation.is_assumption for dv in p.history)
        or any(
            isinstance(dv.value, tuple) and any(isinstance(b, Bracket) and b.citation for b in dv.value)
            for dv in p.history
        )
    }
    # Benefit years are the caller's (and the batch's) business, premiums the collection's: a single
    # decision never reads them.
    engine = {
        p
        for p in assumed
        if p.startswith(("resident.", "ncms."))
        and not p.startswith("resident.premium.")
        and p != "resident.benefit_year_start_month"
    }
    assert engine == set(VARIANTS)


@BENEFITS
@PROPERTY
@given(data=st.data())
def test_assumptions_are_exactly_the_assumed_values_the_amounts_rest_on(
    benefit: tuple[str, str], data: st.DataObject
) -> None:
    claim = data.draw(STRATEGIES[benefit])
    parsed = parse_claim(claim)
    d = decide(parsed, PACK)
    listed = {a["path"] for a in d.assumptions()}
    assert listed == expected_assumptions(claim, d)
    assert all(a["kind"] in ("assumed", "overlay") for a in d.assumptions())
    # No more: an assumed value that is not listed cannot change the decision.
    for path, variant in VARIANTS.items():
        if not any(p == path or p.startswith(path + "[") for p in listed):
            assert _outcome(decide(parsed, variant)) == _outcome(d), path


# --- sequences of claims -----------------------------------------------------------------------


@st.composite
def resident_year(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Claims of one person within one 2016 benefit year (Oct 2015 to Sep 2016), in date order."""
    claims = []
    for _ in range(draw(st.integers(1, 15))):
        kind = draw(
            st.sampled_from([resident_inpatient(), resident_inpatient(), general_outpatient(), special_outpatient()])
        )
        c = draw(kind)
        c["date"] = draw(st.dates(date(2015, 10, 1), date(2016, 9, 30))).isoformat()
        c["person"] = {"birth_date": "1950-06-01", "sex": "M", "group": "general"}
        for k in ("discharge_date", "application_date", "filing_date"):
            c.pop(k, None)
        claims.append(c)
    return sorted(claims, key=lambda c: c["date"])


def _feed(claim: dict[str, Any], ytd: dict[str, int]) -> dict[str, Any]:
    keys = {
        "inpatient": ("fund_paid", "catastrophic_base"),
        "general_outpatient": ("fund_paid", "general_outpatient_paid"),
    }
    fields = keys.get(claim["benefit"], ("fund_paid", "month_used"))
    return {**claim, "ytd": {k: yuan(ytd.get(k, 0)) for k in fields}}


@PROPERTY
@given(resident_year())
def test_the_yearly_ceiling_holds_across_any_sequence_of_claims(claims: list[dict[str, Any]]) -> None:
    ceiling = PACK.at(date(2016, 1, 1)).get("resident.fund_ceiling").value
    go_cap = PACK.at(date(2016, 1, 1)).get("resident.general_outpatient.yearly_cap_elderly").value
    ytd: dict[str, int] = {}
    months: dict[tuple[str, str], int] = {}
    fund_total = 0
    for c in claims:
        month = (c["date"][:7], c.get("disease", ""))
        d = decide(parse_claim(_feed(c, {**ytd, "month_used": months.get(month, 0)})), PACK)
        fund_total += d.fund_pay
        for k, v in d.ytd_after.items():
            if k == "month_used":
                assert v >= months.get(month, 0)
                months[month] = v
            else:
                assert v >= ytd.get(k, 0), k
                ytd[k] = v
        assert ytd["fund_paid"] == fund_total <= ceiling
        assert ytd.get("general_outpatient_paid", 0) <= go_cap


@st.composite
def ncms_year(draw: st.DrawFn) -> list[dict[str, Any]]:
    claims = []
    for _ in range(draw(st.integers(1, 12))):
        c = draw(st.sampled_from([ncms_inpatient(), ncms_outpatient()]).flatmap(lambda s: s))
        c["date"] = "2017-06-01"
        claims.append(c)
    return claims


@PROPERTY
@given(ncms_year())
def test_ncms_yearly_caps_hold_across_any_sequence_of_claims(claims: list[dict[str, Any]]) -> None:
    view = PACK.at(date(2017, 6, 1))
    cap, out_cap = view.get("ncms.yearly_cap").value, view.get("ncms.outpatient.yearly_cap").value
    ytd = {"inpatient_cost": 0, "fund_paid": 0, "outpatient_paid": 0}
    for c in claims:
        fields = ("inpatient_cost", "fund_paid") if c["benefit"] == "inpatient" else ("outpatient_paid", "fund_paid")
        d = decide(parse_claim({**c, "ytd": {k: yuan(ytd[k]) for k in fields}}), PACK)
        for k, v in d.ytd_after.items():
            assert v >= ytd[k], k
            ytd[k] = v
        assert ytd["fund_paid"] <= cap and ytd["outpatient_paid"] <= out_cap
