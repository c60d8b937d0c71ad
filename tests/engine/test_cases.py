"""Scenario tests policy staff can read: tests/engine/cases/*.yaml, each with its arithmetic worked by hand."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from yibao.core.errors import ValidationFailed
from yibao.engine import decide_json

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for f in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(f.read_text(encoding="utf-8")):
            out.append((f"{f.stem}: {case['name']}", case))
    return out


CASES = _load()


@pytest.mark.parametrize(("case_id", "case"), CASES, ids=[c[0] for c in CASES])
def test_case(case_id: str, case: dict[str, Any]) -> None:
    expect = case["expect"]
    if "error_field" in expect:
        with pytest.raises(ValidationFailed) as err:
            decide_json(case["claim"])
        assert err.value.field == expect["error_field"] or err.value.field.endswith("." + expect["error_field"])
        return
    got = decide_json(case["claim"])
    for key, want in expect.items():
        if key == "refused":
            assert (got["refused"] or {}).get("code") == want, got["refused"]
        else:
            assert got[key] == want, f"{key}: {got[key]} != {want}\n" + "\n".join(
                f"  {s['rule']}: {s['amount']} {s['description']}" for s in got["steps"]
            )


def test_there_are_enough_cases_and_each_shows_its_arithmetic() -> None:
    assert len(CASES) >= 80
    for f in CASES_DIR.glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        for block in re.split(r"\n(?=- name:)", text):
            if block.lstrip().startswith("- name:"):
                head = block.split("claim:")[0]
                assert "\n  #" in head, f"{f.name}: a case without worked arithmetic: {head[:60]}"
