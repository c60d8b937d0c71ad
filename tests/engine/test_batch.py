"""The vectorized batch gives the scalar engine's amounts to the fen, claim by claim."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.core.errors import ValidationFailed
from yibao.core.money import format_yuan
from yibao.engine import decide, parse_claim
from yibao.engine.batch import COLUMNS, KIND_GENERAL, KIND_INPATIENT, KIND_SPECIAL, REFUSALS, settle_batch
from yibao.engine.benefit_year import benefit_year_keys, benefit_year_start
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

PACK = get_pack()
DISEASES = [d.code for d in PACK.at(date(2016, 1, 1)).get("resident.special_outpatient.diseases").value]


def test_benefit_year_boundaries() -> None:
    cases = {
        date(2016, 9, 30): date(2015, 10, 1),
        date(2016, 10, 1): date(2016, 10, 1),
        date(2022, 9, 30): date(2021, 10, 1),
        date(2022, 10, 1): date(2022, 10, 1),
        date(2022, 12, 31): date(2022, 10, 1),
        date(2023, 1, 1): date(2023, 1, 1),
        date(2023, 12, 31): date(2023, 1, 1),
        date(2024, 1, 1): date(2024, 1, 1),
    }
    for day, start in cases.items():
        assert benefit_year_start(day, PACK) == start
    keys = benefit_year_keys(np.array(list(cases), dtype="datetime64[D]"), PACK)
    assert [date(1970, 1, 1) + timedelta(days=int(k)) for k in keys] == list(cases.values())


def _to_columns(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {name: np.array([r[name] for r in rows], dtype=dt) for name, dt in COLUMNS.items()}


def _claim_dict(r: dict[str, Any], ytd: dict[str, int]) -> dict[str, Any]:
    person = {
        "birth_date": r["birth_date"].isoformat(),
        "sex": "MF"[r["sex"]],
        "group": ("general", "student_child")[r["group"]],
    }
    base: dict[str, Any] = {"scheme": "resident", "date": r["date"].isoformat(), "person": person}
    money = {k: format_yuan(r[k]) for k in ("total", "in_scope")}
    if r["kind"] == KIND_INPATIENT:
        offsite = ("none", "referral", "emergency")[r["offsite"]]
        out = {
            **base,
            **money,
            "benefit": "inpatient",
            "hospital_level": r["hospital_level"],
            "offsite": offsite,
            "designated": r["designated"],
            "admission_registered": r["registered"],
            "filed": r["filed"],
            "class_b": format_yuan(r["class_b"]),
            "ytd": {
                "fund_paid": format_yuan(ytd["fund_paid"]),
                "catastrophic_base": format_yuan(ytd["catastrophic_base"]),
            },
        }
        if offsite != "none":
            discharge = r["date"] + timedelta(days=5)
            out["discharge_date"] = discharge.isoformat()
            out["application_date"] = (discharge + timedelta(days=10 if r["on_time"] else 40)).isoformat()
        return out
    if r["kind"] == KIND_GENERAL:
        return {
            **base,
            **money,
            "benefit": "general_outpatient",
            "facility": "community_health_center" if r["community_health_center"] else "other",
            "ytd": {"fund_paid": format_yuan(ytd["fund_paid"]), "general_outpatient_paid": format_yuan(ytd["general"])},
        }
    return {
        **base,
        **money,
        "benefit": "special_outpatient",
        "disease": DISEASES[r["disease"]],
        "card": r["card"],
        "ytd": {"fund_paid": format_yuan(ytd["fund_paid"]), "month_used": format_yuan(ytd["month"])},
    }


Outcome = tuple[int, int, int, str | None, int, int]


def scalar_run(rows: list[dict[str, Any]], pack: Pack) -> list[Outcome]:
    """Feed claims one by one, carrying each decision's accumulators to the next claim.

    Each outcome: fund, catastrophic and personal pay, the refusal code, and the year's fund paid and
    catastrophic base after the claim (as the caller carries them from ``ytd_after``).
    """
    years: dict[tuple[int, date], dict[str, int]] = defaultdict(
        lambda: {"fund_paid": 0, "catastrophic_base": 0, "general": 0}
    )
    months: dict[tuple[int, int, int, int], int] = defaultdict(int)
    out = []
    for r in rows:
        ykey = (r["person_id"], benefit_year_start(r["date"], pack))
        mkey = (r["person_id"], r["disease"], r["date"].year, r["date"].month)
        acc = years[ykey]
        d = decide(parse_claim(_claim_dict(r, {**acc, "month": months[mkey]})), pack)
        # Every decision, refused or not, hands back the accumulators to carry (a refusal: unchanged).
        after = d.ytd_after
        acc["fund_paid"] = after["fund_paid"]
        acc["catastrophic_base"] = after.get("catastrophic_base", acc["catastrophic_base"])
        acc["general"] = after.get("general_outpatient_paid", acc["general"])
        if "month_used" in after:
            months[mkey] = after["month_used"]
        code = d.refused.code if d.refused else None
        out.append((d.fund_pay, d.catastrophic_pay, d.personal_pay, code, acc["fund_paid"], acc["catastrophic_base"]))
    return out


def batch_run(rows: list[dict[str, Any]], pack: Pack) -> list[Outcome]:
    res = settle_batch(_to_columns(rows), pack)
    columns = ("fund_pay", "catastrophic_pay", "personal_pay", "refused", "fund_paid_after", "catastrophic_base_after")
    return [
        (int(f), int(c), int(p), REFUSALS[int(x)] or None, int(fa), int(ca))
        for f, c, p, x, fa, ca in zip(*(res[k] for k in columns), strict=True)
    ]


@st.composite
def claim_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few persons with many claims each, big enough to cross the ceiling and every catastrophic band."""
    rows: list[dict[str, Any]] = []
    n_persons = draw(st.integers(1, 3))
    for pid in range(n_persons):
        birth = draw(st.dates(date(1940, 1, 1), date(2016, 12, 31)))
        sex = draw(st.integers(0, 1))
        group = draw(st.integers(0, 1))
        day = draw(st.dates(date(2015, 10, 1), date(2023, 6, 30)))
        for _ in range(draw(st.integers(1, 12))):
            day = day + timedelta(days=draw(st.integers(0, 120)))
            kind = draw(st.sampled_from([KIND_INPATIENT, KIND_INPATIENT, KIND_GENERAL, KIND_SPECIAL]))
            if kind == KIND_INPATIENT:
                in_scope = draw(st.one_of(st.integers(0, 100_000), st.integers(0, 60_000_000)))
            else:
                in_scope = draw(st.integers(0, 700_000))
            total = in_scope + draw(st.integers(0, 3_000_000))
            rows.append(
                {
                    "person_id": pid,
                    "date": day,
                    "kind": kind,
                    "birth_date": birth,
                    "sex": sex,
                    "group": group,
                    "hospital_level": draw(st.integers(1, 3)),
                    "offsite": draw(st.sampled_from([0, 0, 0, 1, 2])),
                    "designated": draw(st.booleans() | st.just(True)),
                    "registered": draw(st.just(True) | st.booleans()),
                    "filed": draw(st.just(True) | st.booleans()),
                    "on_time": draw(st.just(True) | st.booleans()),
                    "community_health_center": draw(st.just(True) | st.booleans()),
                    "card": draw(st.just(True) | st.booleans()),
                    "disease": draw(st.integers(0, len(DISEASES) - 1)),
                    "total": total,
                    "in_scope": in_scope,
                    "class_b": draw(st.integers(0, in_scope)),
                }
            )
    return rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(claim_rows())
def test_batch_equals_scalar(rows: list[dict[str, Any]]) -> None:
    assert batch_run(rows, PACK) == scalar_run(rows, PACK)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(claim_rows())
def test_batch_money_invariants(rows: list[dict[str, Any]]) -> None:
    # The batch's own invariants, claim by claim and over each person's benefit year.
    previous: dict[tuple[int, date], tuple[int, int]] = {}
    for r, (fund, cat, personal, refused, fund_after, cat_after) in zip(rows, batch_run(rows, PACK), strict=True):
        assert fund >= 0 and cat >= 0 and personal >= 0
        assert fund + cat <= r["total"] and personal == r["total"] - fund - cat
        key = (r["person_id"], benefit_year_start(r["date"], PACK))
        fund_before, cat_before = previous.get(key, (0, 0))
        assert fund_after == fund_before + fund <= PACK.at(r["date"]).get("resident.fund_ceiling").value
        assert cat_after >= cat_before
        if refused is not None:
            # A refused claim pays nothing and adds nothing to any accumulator.
            assert (fund, cat, fund_after, cat_after) == (0, 0, fund_before, cat_before)
        previous[key] = (fund_after, cat_after)


def _rows_from_columns(cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    epoch = date(1970, 1, 1)
    rows = []
    for i in range(len(cols["person_id"])):
        row = {k: cols[k][i].item() for k in COLUMNS if k not in ("date", "birth_date")}
        row["date"] = epoch + timedelta(days=int(cols["date"][i].astype(np.int64)))
        row["birth_date"] = epoch + timedelta(days=int(cols["birth_date"][i].astype(np.int64)))
        rows.append(row)
    return rows


def test_batch_equals_scalar_on_12000_synthetic_claims() -> None:
    # A deterministic companion to the property test: 12,000 claims of two years, every kind and flag.
    from yibao.engine.synthetic import generate_claims

    rows = _rows_from_columns(generate_claims(12_000, seed=11))
    assert len(rows) >= 10_000
    assert batch_run(rows, PACK) == scalar_run(rows, PACK)


def _stay(pid: int, day: date, in_scope: int, level: int = 1) -> dict[str, Any]:
    return {
        "person_id": pid,
        "date": day,
        "kind": KIND_INPATIENT,
        "birth_date": date(1970, 1, 1),
        "sex": 0,
        "group": 0,
        "hospital_level": level,
        "offsite": 0,
        "designated": True,
        "registered": True,
        "filed": True,
        "on_time": True,
        "community_health_center": True,
        "card": True,
        "disease": 0,
        "total": in_scope,
        "in_scope": in_scope,
        "class_b": 0,
    }


def test_ceiling_crossed_mid_year_and_catastrophic_bands() -> None:
    # Level 1, deductible 200, 90%: stay 1 in-scope 150,200 -> fund 135,000; stay 2 in-scope 30,200 ->
    # raw 27,000 but only 25,000 left of 160,000. Burdens 15,200 then 5,200: the year reaches 20,400,
    # 400 above the 20,000 threshold at 50% -> catastrophic 200.00 on stay 2.
    rows = [_stay(1, date(2016, 1, 5), 15_020_000), _stay(1, date(2016, 2, 5), 3_020_000)]
    res = batch_run(rows, PACK)
    assert res == [
        (13_500_000, 0, 1_520_000, None, 13_500_000, 1_520_000),
        (2_500_000, 20_000, 500_000, None, 16_000_000, 2_040_000),
    ]
    assert res == scalar_run(rows, PACK)


def test_new_benefit_year_resets_accumulators() -> None:
    rows = [_stay(1, date(2016, 9, 30), 20_000_000), _stay(1, date(2016, 10, 1), 20_000_000)]
    res = batch_run(rows, PACK)
    assert res[0][0] == res[1][0] == 16_000_000  # both years pay up to their own ceiling


def test_unsorted_input_is_refused() -> None:
    rows = [_stay(2, date(2016, 1, 5), 100), _stay(1, date(2016, 1, 6), 100)]
    with pytest.raises(ValidationFailed) as err:
        settle_batch(_to_columns(rows), PACK)
    assert err.value.field == "person_id"


def test_date_outside_policy_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        settle_batch(_to_columns([_stay(1, date(2014, 1, 5), 100)]), PACK)
    assert err.value.field == "date"


def test_general_outpatient_cap_rises_on_the_60th_birthday() -> None:
    # A man born 1956-03-01: four visits of 100.00 in-scope pay 40.00 each and use the 160.00 cap; on
    # 2016-02-29 he is 59 (nothing left), on his birthday 2016-03-01 the cap is 240.00: 40.00 more.
    def visit(day: date) -> dict[str, Any]:
        row = _stay(7, day, 10_000)
        row.update(kind=KIND_GENERAL, birth_date=date(1956, 3, 1))
        return row

    days = [date(2016, 1, d) for d in (4, 5, 6, 7)] + [
        date(2016, 2, 29),
        date(2016, 3, 1),
        date(2016, 3, 2),
        date(2016, 3, 3),
    ]
    rows = [visit(d) for d in days]
    res = batch_run(rows, PACK)
    assert [f for f, *_ in res] == [4000, 4000, 4000, 4000, 0, 4000, 4000, 0]
    assert res == scalar_run(rows, PACK)


def test_special_outpatient_monthly_limit_per_disease() -> None:
    # Two diseases interleaved in one month: each has its own monthly limit from the overlay.
    limit = PACK.at(date(2016, 1, 1)).get("resident.special_outpatient.monthly_limit").value
    a, b = 0, 1
    rows = []
    for i, (dis, amount) in enumerate([(a, 30_000), (b, 30_000), (a, 30_000), (b, 30_000), (a, 90_000)]):
        row = _stay(9, date(2016, 5, 1 + i), amount)
        row.update(kind=KIND_SPECIAL, disease=dis)
        rows.append(row)
    row = _stay(9, date(2016, 6, 1), 30_000)
    row.update(kind=KIND_SPECIAL, disease=a)
    rows.append(row)
    res = batch_run(rows, PACK)
    assert res == scalar_run(rows, PACK)
    assert limit[DISEASES[a]] < 90_000 + 60_000  # the month's limit binds on the fifth visit


def test_chunks_never_split_a_person_and_give_the_same_result() -> None:
    from yibao.engine.batch import person_chunks
    from yibao.engine.synthetic import generate_claims

    claims = generate_claims(5000, seed=7)
    ranges = person_chunks(claims["person_id"], 100)
    assert ranges[0][0] == 0 and ranges[-1][1] == 5000
    for (_, hi), (lo, _) in pairwise(ranges):
        assert hi == lo and claims["person_id"][lo] != claims["person_id"][lo - 1]
    whole = settle_batch(claims, PACK, chunk_rows=1 << 20)
    small = settle_batch(claims, PACK, chunk_rows=100)
    for k in whole:
        assert np.array_equal(whole[k], small[k]), k


def test_child_deductible_until_the_19th_birthday() -> None:
    # 「18周岁以下」 includes 18: level 2, in-scope 5,000.00. Admitted on the 18th birthday and the day before
    # the 19th: child deductible 200 -> (5000 - 200) x 80% = 3840.00; on the 19th birthday: 400 -> 3680.00.
    def stay(pid: int, born: date) -> dict[str, Any]:
        row = _stay(pid, date(2018, 3, 1), 500_000, level=2)
        row.update(birth_date=born)
        return row

    rows = [stay(1, date(2000, 3, 1)), stay(2, date(1999, 3, 2)), stay(3, date(1999, 3, 1))]
    res = batch_run(rows, PACK)
    assert [f for f, *_ in res] == [384_000, 384_000, 368_000]
    assert res == scalar_run(rows, PACK)


def test_refused_stay_adds_nothing_to_the_year() -> None:
    # A stay at a non-designated hospital between two paid stays: the running totals pass it unchanged.
    refused = _stay(1, date(2016, 2, 1), 10_000_000)
    refused.update(designated=False)
    rows = [_stay(1, date(2016, 1, 5), 3_020_000), refused, _stay(1, date(2016, 3, 5), 1_020_000)]
    res = batch_run(rows, PACK)
    assert res[1] == (0, 0, 10_000_000, "inpatient.not_designated", res[0][4], res[0][5])
    assert res == scalar_run(rows, PACK)
