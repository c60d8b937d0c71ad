"""No number drifts from its source: quotes stand verbatim in the seeds, values stand in their quotes."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from yibao.core.money import parse_yuan
from yibao.policy.loader import OVERLAYS_DIR, load_pack
from yibao.policy.model import Citation, DatedValue, Pack, Unit
from yibao.policy.quotes import spellings, verify_quotes


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack("yunnan", overlays=[OVERLAYS_DIR / "demo.yaml"])


def test_every_quote_and_value_checks_out(pack: Pack) -> None:
    assert verify_quotes(pack) == []


def test_every_value_is_cited_or_marked(pack: Pack) -> None:
    for p in pack.parameters.values():
        for dv in p.history:
            c = dv.citation
            assert (c.source and c.quote) or (c.assumed and c.note) or (c.overlay and c.note), p.path


def test_a_drifted_value_is_caught(pack: Pack) -> None:
    p = pack.parameters["resident.fund_ceiling"]
    drifted = p.history[0].__class__(p.history[0].start, 150_000_00, p.history[0].citation)
    bad = Pack("x", "x", {p.path: p.__class__(**{**_fields(p), "history": (drifted,)})})
    assert any("does not appear" in str(d) for d in verify_quotes(bad))


def test_a_misquoted_sentence_is_caught(pack: Pack) -> None:
    p = pack.parameters["resident.fund_ceiling"]
    dv = p.history[0]
    cit = Citation(dv.citation.source, "累计基金最高支付限额为16万元整", file="f", line=1)
    bad = Pack("x", "x", {p.path: p.__class__(**{**_fields(p), "history": (DatedValue(dv.start, dv.value, cit),)})})
    assert any("not found verbatim" in str(d) for d in verify_quotes(bad))


def _fields(p: object) -> dict[str, object]:
    return {f: getattr(p, f) for f in p.__dataclass_fields__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "unit", "spelled"),
    [
        (16_000_000, Unit.CNY, "16万"),
        (1_100_000, Unit.CNY, "1.1万"),
        (100_000, Unit.CNY, "1千"),
        (Fraction(7, 10), Unit.RATIO, "70%"),
        (Fraction(11, 10), Unit.RATIO, "110%"),
        (1, Unit.MONTHS, "一"),
        (3, Unit.MONTHS, "三"),
        (date(2022, 9, 1), Unit.DATE, "2022年9月1日"),
    ],
)
def test_spellings(value: object, unit: Unit, spelled: str) -> None:
    assert spelled in spellings(value, unit)


# Every number of policy.md, looked up on a day it is in force.
EXPECTED = [
    ("2016-01-01", "resident.inpatient.deductible", ("level1", "general"), "200"),
    ("2016-01-01", "resident.inpatient.deductible", ("level1", "student_child"), "100"),
    ("2016-01-01", "resident.inpatient.deductible", ("level2", "general"), "400"),
    ("2016-01-01", "resident.inpatient.deductible", ("level2", "student_child"), "200"),
    ("2016-01-01", "resident.inpatient.deductible", ("level3", "general"), "600"),
    ("2016-01-01", "resident.inpatient.deductible", ("level3", "student_child"), "300"),
    ("2016-01-01", "resident.inpatient.deductible", ("offsite", "general"), "600"),
    ("2016-01-01", "resident.inpatient.deductible", ("offsite", "student_child"), "300"),
    ("2016-01-01", "resident.fund_ceiling", (), "160000"),
    ("2016-01-01", "resident.catastrophic.threshold", (), "20000"),
    ("2016-01-01", "resident.general_outpatient.per_visit_cap", (), "40"),
    ("2016-01-01", "resident.general_outpatient.yearly_cap", (), "160"),
    ("2016-01-01", "resident.general_outpatient.yearly_cap_elderly", (), "240"),
    ("2016-01-01", "resident.maternity.subsidy", ("natural",), "600"),
    ("2016-01-01", "resident.maternity.subsidy", ("caesarean",), "1200"),
    ("2016-01-01", "resident.disability_aid.subsidy", ("thigh_prosthesis",), "2000"),
    ("2016-01-01", "resident.disability_aid.subsidy", ("lower_leg_prosthesis",), "1000"),
    ("2016-01-01", "resident.disability_aid.subsidy", ("hearing_aid",), "2400"),
    ("2022-06-01", "resident.premium.individual", (), "320"),
    ("2023-06-01", "resident.premium.individual", (), "350"),
    ("2023-06-01", "employee.account.commercial_insurance_min_balance", (), "1000"),
    ("2023-06-01", "employee.account.insurance.price_per_share", ("baobao_ankang",), "1800"),
    ("2023-06-01", "employee.account.insurance.price_per_share", ("jirui_ankang",), "500"),
    ("2017-06-01", "ncms.outpatient.drug_cap", ("village_clinic",), "10"),
    ("2017-06-01", "ncms.outpatient.drug_cap", ("township",), "100"),
    ("2017-06-01", "ncms.outpatient.drug_cap", ("level2",), "200"),
    ("2017-06-01", "ncms.outpatient.drug_cap", ("level3",), "200"),
    ("2017-06-01", "ncms.outpatient.iv_drug_cap", (), "50"),
    ("2017-06-01", "ncms.outpatient.exam_surgery_cap", ("township",), "50"),
    ("2017-06-01", "ncms.outpatient.tcm_per_dose_cap", (), "1"),
    ("2017-06-01", "ncms.outpatient.yearly_cap", (), "5000"),
    ("2017-06-01", "ncms.inpatient.exam_cap", (), "200"),
    ("2017-06-01", "ncms.inpatient.surgery_cap", (), "1000"),
    ("2017-06-01", "ncms.inpatient.elderly_daily", (), "10"),
    ("2017-06-01", "ncms.inpatient.elderly_cap", (), "200"),
    ("2017-06-01", "ncms.yearly_cap", (), "11000"),
]
RATIOS = [
    ("2016-01-01", "resident.inpatient.fund_ratio", ("level1",), Fraction(9, 10)),
    ("2016-01-01", "resident.inpatient.fund_ratio", ("level2",), Fraction(8, 10)),
    ("2016-01-01", "resident.inpatient.fund_ratio", ("level3",), Fraction(7, 10)),
    ("2016-01-01", "resident.inpatient.fund_ratio", ("offsite",), Fraction(5, 10)),
    ("2016-01-01", "resident.general_outpatient.ratio", (), Fraction(1, 2)),
    ("2016-01-01", "resident.special_outpatient.ratio_range", ("min",), Fraction(6, 10)),
    ("2016-01-01", "resident.special_outpatient.ratio_range", ("max",), Fraction(8, 10)),
    ("2023-06-01", "employee.account.insurance.maturity_return_ratio", (), Fraction(11, 10)),
    ("2017-06-01", "ncms.outpatient.ratio", ("village_clinic",), Fraction(6, 10)),
    ("2017-06-01", "ncms.outpatient.ratio", ("township",), Fraction(4, 10)),
    ("2017-06-01", "ncms.outpatient.ratio", ("level2",), Fraction(3, 10)),
    ("2017-06-01", "ncms.outpatient.ratio", ("level3",), Fraction(2, 10)),
    ("2017-06-01", "ncms.inpatient.ratio", ("township",), Fraction(6, 10)),
    ("2017-06-01", "ncms.inpatient.ratio", ("level2",), Fraction(4, 10)),
    ("2017-06-01", "ncms.inpatient.ratio", ("level3",), Fraction(3, 10)),
]
COUNTS = [
    ("2016-01-01", "resident.child_age_limit", (), 18),
    ("2016-01-01", "resident.offsite.emergency_filing_days", (), 3),
    ("2016-01-01", "resident.offsite.application_deadline_months", (), 1),
    ("2016-01-01", "resident.special_outpatient.disease_count", (), 27),
    ("2016-01-01", "resident.special_outpatient.appraisal_interval_months", (), 3),
    ("2016-01-01", "resident.general_outpatient.elderly_age", ("M",), 60),
    ("2016-01-01", "resident.general_outpatient.elderly_age", ("F",), 55),
    ("2016-01-01", "resident.maternity.application_deadline_months", (), 1),
    ("2016-01-01", "resident.disability_aid.interval_years", (), 5),
    ("2016-01-01", "resident.disability_aid.hearing_aid_age_limit", (), 7),
    ("2016-01-01", "resident.newborn.enrolment_window_months", (), 3),
    ("2016-01-01", "resident.newborn.congenital_claim_days", (), 30),
    ("2016-01-01", "resident.benefit_year_start_month", (), 10),
    ("2023-06-01", "resident.benefit_year_start_month", (), 1),
    ("2023-06-01", "employee.account.insurance.disease_count", ("baobao_ankang",), 31),
    ("2023-06-01", "employee.account.insurance.disease_count", ("jirui_ankang",), 36),
    ("2017-06-01", "ncms.inpatient.elderly_age", (), 60),
]


def _get(pack: Pack, day: str, path: str, key: tuple[str, ...]) -> object:
    v = pack.at(date.fromisoformat(day)).get(path).value
    for k in key:
        v = v[k]
    return v


@pytest.mark.parametrize(("day", "path", "key", "yuan"), EXPECTED)
def test_money_values(pack: Pack, day: str, path: str, key: tuple[str, ...], yuan: str) -> None:
    assert _get(pack, day, path, key) == parse_yuan(yuan)


@pytest.mark.parametrize(("day", "path", "key", "ratio"), RATIOS)
def test_ratio_values(pack: Pack, day: str, path: str, key: tuple[str, ...], ratio: Fraction) -> None:
    assert _get(pack, day, path, key) == ratio


@pytest.mark.parametrize(("day", "path", "key", "n"), COUNTS)
def test_count_values(pack: Pack, day: str, path: str, key: tuple[str, ...], n: int) -> None:
    assert _get(pack, day, path, key) == n


def test_scales(pack: Pack) -> None:
    cat = pack.at(date(2016, 1, 1)).get("resident.catastrophic.scale").value
    assert [(b.threshold, b.rate) for b in cat] == [
        (0, Fraction(1, 2)),
        (50_000_00, Fraction(3, 5)),
        (100_000_00, Fraction(7, 10)),
        (300_000_00, Fraction(4, 5)),
    ]
    ncms = pack.at(date(2017, 6, 1)).get("ncms.inpatient.risk_fund_scale").value
    assert [(b.threshold, b.rate) for b in ncms] == [
        (5_000_00, Fraction(13, 20)),
        (10_000_00, Fraction(7, 10)),
        (18_000_00, Fraction(7, 10)),
    ]
    assert ncms[2].citation is not None and ncms[2].citation.assumed


def test_lists(pack: Pack) -> None:
    day = pack.at(date(2023, 6, 1))
    assert len(day.get("resident.special_outpatient.diseases").value) == 27
    assert [i.name for i in day.get("employee.account.close_relatives").value] == [
        "配偶",
        "父母",
        "子女",
        "兄弟姐妹",
        "祖父母",
        "外祖父母",
        "孙子女",
        "外孙子女",
    ]
    assert day.get("resident.premium.collection_opens").value == date(2022, 9, 1)
    assert day.get("resident.premium.collection_closes").value == date(2022, 12, 31)
    assert len(day.get("employee.account.withdrawal_cases").value) == 5


def test_anhui_figures_are_left_out(pack: Pack) -> None:
    caps = [
        dv.value
        for p in pack.parameters.values()
        if p.unit is Unit.CNY and p.kind.value == "scalar"
        for dv in p.history
    ]
    assert 40_000_00 not in caps
