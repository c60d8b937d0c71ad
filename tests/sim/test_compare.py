"""What-ifs: the same claims under two policies, line by line, and who gains or loses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from yibao.core.money import parse_yuan
from yibao.engine.batch import COLUMNS, settle_batch
from yibao.engine.running import group_totals, starts_of
from yibao.policy.loader import OVERLAYS_DIR, PackError, default_overlays, load_pack
from yibao.sim.service import Where, compare_years
from yibao.sim.store import read_manifest


def _fen(text: str) -> int:
    return parse_yuan(text, field="amount", allow_negative=True)


def special_80(tmp_path: Path) -> Path:
    """A what-if overlay: every special disease at 80% (in the format of deployment overlays)."""
    demo = yaml.safe_load((OVERLAYS_DIR / "demo.yaml").read_text(encoding="utf-8"))
    ratio = demo["values"]["resident.special_outpatient.ratio"]
    for entry in ratio.values():
        entry["table"] = {code: 0.8 for code in entry["table"]}
        entry["note"] = "测算：各病种报销比例80%"
    path = tmp_path / "special80.yaml"
    overlay = {
        "overlay": "special80",
        "description": "门诊特殊病报销比例80%",
        "values": {"resident.special_outpatient.ratio": ratio},
    }
    path.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    return path


def deductible_doubled(tmp_path: Path) -> Path:
    """A reform: every inpatient deductible doubled from 2023 (cited values, changed on purpose)."""
    path = tmp_path / "deductible.yaml"
    path.write_text(
        "overlay: deductible\nreform: true\ntitle: 住院起付标准翻倍（测算）/ deductibles doubled\nvalues:\n"
        "  resident.inpatient.deductible:\n    2023-01-01:\n      note: 测算方案\n      table:\n"
        "        level1: {general: 400, student_child: 200}\n        level2: {general: 800, student_child: 400}\n"
        "        level3: {general: 1200, student_child: 600}\n        offsite: {general: 1200, student_child: 600}\n",
        encoding="utf-8",
    )
    return path


def _direct(claims: Path, overlay: Path | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    parts = [pq.read_table(claims / p["file"]) for p in read_manifest(claims, "claims")["partitions"]]
    cols = {k: np.concatenate([np.asarray(t.column(k).to_numpy()) for t in parts]) for k in [*COLUMNS, "region"]}
    pack = load_pack("yunnan", overlays=[*default_overlays(), *([overlay] if overlay else [])])
    return cols, settle_batch(cols, pack)


def _by_person(claims: Path, overlay: Path | None) -> tuple[np.ndarray, np.ndarray, int]:
    cols, res = _direct(claims, overlay)
    starts = starts_of(cols["person_id"])
    return group_totals(res["personal_pay"], starts), cols["region"][starts], int(res["fund_pay"].sum())


def test_a_what_if_against_current_policy(province: tuple[Path, Path], tmp_path: Path) -> None:
    overlay = special_80(tmp_path)
    out = tmp_path / "cmp"
    compare_years(province[1], out, overlays=[overlay], where=Where(), quiet=True)
    c = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert c["reference"]["overlay"] is None and c["reference"]["reforms"] == [] and c["same_claims"]
    comp = c["comparisons"][0]
    assert comp["scenario"]["name"] == "special80"
    before, region, fund_a = _by_person(province[1], None)
    after, _, fund_b = _by_person(province[1], overlay)
    fund = next(ln for ln in comp["lines"] if ln["table"] == "overview" and ln["measure"] == "fund_pay")
    assert _fen(fund["difference"]) == fund_b - fund_a > 0
    # Who gains: the person-years that pay less, counted and summed exactly as a direct comparison does.
    gain, loss = after < before, after > before
    assert comp["persons"]["gain"] == int(gain.sum()) > 0 and comp["persons"]["loss"] == int(loss.sum())
    assert _fen(comp["persons"]["paid_less"]) == int((before - after)[gain].sum())
    kunming = next(r for r in comp["gainers_by_prefecture"] if r["key"] == "530100")
    assert kunming["gain"] == int((gain & (region == 530100)).sum())
    assert sum(r["gain"] for r in comp["gainers_by_group"]) == comp["persons"]["gain"]
    # Inpatient stays do not change under a special-disease reform unless the fund ceiling binds.
    assert (out / "compare.html").exists() and (out / "charts" / "gainers_losers.png").exists()
    assert (out / "tables" / "lines.csv").read_text(encoding="utf-8-sig").startswith("table,key,label,measure")
    for folder in ("0-current", "1-special80"):
        assert json.loads((out / "scenarios" / folder / "report.json").read_text(encoding="utf-8"))["overview"]


def test_a_reform_of_cited_values(province: tuple[Path, Path], tmp_path: Path) -> None:
    reform = deductible_doubled(tmp_path)
    out = tmp_path / "cmp"
    compare_years(province[1], out, overlays=[reform], where=Where(), quiet=True)
    comp = json.loads((out / "compare.json").read_text(encoding="utf-8"))["comparisons"][0]
    assert comp["scenario"]["name"] == "住院起付标准翻倍（测算）/ deductibles doubled"
    assert comp["scenario"]["reforms"] == [{"name": "deductible", "title": comp["scenario"]["name"]}]
    before, _, fund_a = _by_person(province[1], None)
    after, _, fund_b = _by_person(province[1], reform)
    fund = next(ln for ln in comp["lines"] if ln["table"] == "overview" and ln["measure"] == "fund_pay")
    assert _fen(fund["difference"]) == fund_b - fund_a < 0
    assert comp["persons"]["loss"] == int((after > before).sum()) > 0
    # Every claim whose decision read the reformed deductible is marked, as the batch marks it.
    _, res = _direct(province[1], reform)
    report = json.loads((out / "scenarios" / "1-deductible" / "report.json").read_text(encoding="utf-8"))
    assert report["overview"]["reformed"] == int(np.count_nonzero(res["reforms"])) > 0
    deductible = next(p for p in report["policy"] if p["path"] == "resident.inpatient.deductible")
    assert deductible["reform"] == comp["scenario"]["name"]


def test_an_overlay_that_is_not_a_reform_may_not_change_cited_values(
    province: tuple[Path, Path], tmp_path: Path
) -> None:
    text = deductible_doubled(tmp_path).read_text(encoding="utf-8").replace("reform: true\n", "")
    plain = tmp_path / "plain.yaml"
    plain.write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as err:
        compare_years(province[1], tmp_path / "out", overlays=[plain], where=Where(), quiet=True)
    assert "plain.yaml" in err.value.message_en and "resident.inpatient.deductible" in err.value.message_en
    assert not (tmp_path / "out").exists()


def test_a_reform_overlay_is_validated_like_any_overlay(province: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "overlay: bad\nvalues:\n  resident.special_outpatient.ratio:\n    2015-10-01:\n      note: x\n"
        "      table: {diabetes: 0.99}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as err:
        compare_years(province[1], tmp_path / "out", overlays=[bad], where=Where(), quiet=True)
    assert "bad.yaml" in err.value.message_en
    assert not (tmp_path / "out").exists()  # nothing written before the policy is known to be valid
