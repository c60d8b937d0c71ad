"""The readings policy.md marks (revision 2026-11-30, item 9) are marked in the pack too.

A reading is an interpretation of a seed that a deployment may want to check: its parameter's note
says so (读法), and an assumed reading is an assumed value, so that a decision resting on it lists it.
"""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from yibao.policy.loader import PACKS_DIR, get_pack

PACK = get_pack()
YUNNAN = PACKS_DIR / "yunnan"

# policy.md reading -> the parameter whose note marks it, and words the note must contain.
READINGS = [
    ("resident.catastrophic.threshold", ("读法", "待遇年度", "起付标准", "乙类", "超过年度基金限额", "不予报销")),
    ("resident.special_outpatient.monthly_limit", ("读法", "计入的医保范围内费用")),
    ("employee.account.close_relatives", ("读法", "每一种用途")),
    ("ncms.inpatient.risk_fund_scale", ("读法", "取代", "假定")),
    ("resident.child_age_limit", ("包括本数", "18周岁及以下")),
    ("resident.disability_aid.hearing_aid_age_limit", ("包括本数", "7周岁及以下", "无须残疾证")),
    ("resident.disability_aid.interval_years", ("只对下肢假肢", "不要求残疾证")),
    ("resident.newborn.enrolment_window_months", ("先天性疾病", "自参保之日起")),
    ("resident.offsite.application_deadline_months", ("假定", "resident.late_claims_refused")),
    ("employee.account.insurance.maturity_return_ratio", ("假定", "个人账户")),
]

# Assumed readings: the value itself is assumed, so every decision that reads it lists it.
ASSUMED = ["resident.late_claims_refused", "ncms.inpatient.elderly_covered_lines"]

# Provenance (policy.md: "assumed") is marked on the scheme's section.
SECTIONS = {"resident": ("出处", "假定", "城镇居民"), "ncms": ("出处", "假定", "兴塔镇", "安徽")}


@pytest.mark.parametrize(("path", "words"), READINGS, ids=[r[0] for r in READINGS])
def test_reading_is_marked_in_the_note(path: str, words: tuple[str, ...]) -> None:
    param = PACK.parameter(path)
    notes = " ".join(n for n in [param.note, *(dv.citation.note for dv in param.history)] if n)
    for word in words:
        assert word in notes, f"{path}: {word!r} not in {notes!r}"


@pytest.mark.parametrize("path", ASSUMED)
def test_assumed_reading_is_an_assumed_value_with_its_note(path: str) -> None:
    param = PACK.parameter(path)
    assert param.history and all(dv.citation.assumed and dv.citation.note for dv in param.history)
    assert "假定" in (param.history[-1].citation.note or "")


@pytest.mark.parametrize(("section", "words"), SECTIONS.items())
def test_provenance_is_marked_on_the_section(section: str, words: tuple[str, ...]) -> None:
    note = yaml.safe_load((YUNNAN / section / "_section.yaml").read_text(encoding="utf-8"))["note"]
    for word in words:
        assert word in note


def test_revised_ages_keep_their_numbers() -> None:
    view = PACK.at(date(2016, 1, 1))
    assert view.get("resident.child_age_limit").value == 18
    assert view.get("resident.disability_aid.hearing_aid_age_limit").value == 7
