"""The loaded pack: it pickles whole (to worker processes), reads through typed lookups, and never changes."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from fractions import Fraction
from typing import Any

import pytest

from yibao.engine import decide, parse_claim
from yibao.policy.loader import OVERLAYS_DIR, load_pack
from yibao.policy.model import Bracket, FrozenMap, ListItem, Pack

PACK = load_pack(overlays=[OVERLAYS_DIR / "demo.yaml"])

CLAIMS: list[dict[str, Any]] = [
    {
        "scheme": "resident",
        "benefit": "inpatient",
        "date": "2016-03-01",
        "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
        "hospital_level": 3,
        "total": "250000.00",
        "in_scope": "240000.00",
        "class_b": "1000.00",
        "ytd": {"fund_paid": "20000.00", "catastrophic_base": "30000.00"},
    },
    {
        "scheme": "resident",
        "benefit": "special_outpatient",
        "date": "2016-05-02",
        "person": {"birth_date": "1950-01-01", "sex": "M"},
        "disease": "diabetes",
        "card": True,
        "total": "900.00",
        "in_scope": "800.00",
    },
    {
        "scheme": "ncms",
        "benefit": "inpatient",
        "date": "2017-06-01",
        "person": {"birth_date": "1950-01-01", "sex": "M"},
        "facility": "township",
        "drugs": "9000.00",
        "exams": "500.00",
        "surgery": "0.00",
        "others": "400.00",
        "bed_days": 12,
        "ytd": {"inpatient_cost": "3000.00", "fund_paid": "0.00"},
    },
]


def _decisions(pack: Pack) -> list[dict[str, Any]]:
    return [decide(parse_claim(c), pack).to_dict() for c in CLAIMS]


def test_a_pickled_pack_equals_the_original_and_decides_the_same() -> None:
    PACK.at(date(2016, 3, 1))  # a cached view must not travel or matter
    copy = pickle.loads(pickle.dumps(PACK))
    assert copy == PACK and copy is not PACK and hash(copy) == hash(PACK)
    assert copy.parameters == PACK.parameters and copy.overlays == ("demo",)
    assert isinstance(copy.parameter("resident.inpatient.deductible").history[0].value, FrozenMap)
    assert _decisions(copy) == _decisions(PACK)


def test_packs_loaded_twice_are_equal_and_one_changed_value_makes_them_differ(tmp_path: Any) -> None:
    again = load_pack(overlays=[OVERLAYS_DIR / "demo.yaml"])
    assert again == PACK
    assert load_pack(overlays=[]) != PACK  # without the deployment's values


def _decide_in_worker(pack: Pack) -> list[dict[str, Any]]:
    return _decisions(pack)


def test_a_worker_process_decides_with_the_pack_it_was_sent() -> None:
    # "spawn": the worker starts afresh and has only what was pickled, not a forked copy of this process.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_decide_in_worker, PACK).result(timeout=120) == _decisions(PACK)


def test_typed_lookups_give_the_engine_its_types() -> None:
    on = date(2016, 3, 1)
    view = PACK.at(on)
    assert view.on == on and view.money("resident.fund_ceiling") == 16_000_000
    assert view.money("resident.inpatient.deductible", "level3", "general") == 60_000
    assert view.ratio("resident.inpatient.fund_ratio", "level3") == Fraction(7, 10)
    assert view.whole("resident.child_age_limit") == PACK.whole("resident.child_age_limit", on) == 18
    assert PACK.at(date(2023, 1, 1)).get("resident.premium.collection_opens").day() == date(2022, 9, 1)
    assert "diabetes" in PACK.codes("resident.special_outpatient.diseases", on)
    assert view.codes("resident.special_outpatient.diseases") == PACK.codes("resident.special_outpatient.diseases", on)
    assert all(isinstance(i, ListItem) for i in PACK.items("resident.premium.channels", date(2023, 1, 1)))
    scale = view.scale("resident.catastrophic.scale")
    assert [b.rate for b in scale] == [Fraction(1, 2), Fraction(3, 5), Fraction(7, 10), Fraction(4, 5)]
    assert all(isinstance(b, Bracket) for b in scale)
    # The pack's own tuple (compiled scales are cached by identity).
    assert PACK.at(date(2016, 4, 1)).scale("resident.catastrophic.scale") is scale


@pytest.mark.parametrize(
    ("path", "lookup", "message"),
    [
        ("resident.fund_ceiling", lambda pv: pv.ratio(), "holds CNY values, not a ratio"),
        ("resident.inpatient.fund_ratio", lambda pv: pv.money("level3"), "holds ratio values, not money"),
        ("resident.inpatient.deductible", lambda pv: pv.money(), "holds CNY values, not money"),
        ("resident.fund_ceiling", lambda pv: pv.whole(), "not a whole number"),
        ("resident.fund_ceiling", lambda pv: pv.day(), "not a date"),
        ("resident.fund_ceiling", lambda pv: pv.items(), "not a list"),
        ("resident.special_outpatient.diseases", lambda pv: pv.scale(), "not a scale"),
        ("resident.fund_ceiling", lambda pv: pv.money("level3"), "is not a table with the key 'level3'"),
    ],
)
def test_asking_for_the_wrong_kind_of_value_is_a_programming_error(path: str, lookup: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        lookup(PACK.at(date(2016, 3, 1)).get(path))


def test_values_do_not_change_once_loaded() -> None:
    table = PACK.parameter("resident.inpatient.deductible").history[0].value
    assert isinstance(table, FrozenMap)
    with pytest.raises(TypeError, match="does not change"):
        table["level1"] = FrozenMap()
    with pytest.raises(TypeError):
        table.update({})
    with pytest.raises(TypeError):
        PACK.parameters["x"] = PACK.parameter("resident.fund_ceiling")  # type: ignore[index]
