"""Settle and report: every figure of the report agrees with the engine run directly on the same claims."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from yibao.core.money import format_yuan, parse_yuan
from yibao.engine.batch import COLUMNS, REFUSALS, settle_batch
from yibao.engine.scale import compile_scale
from yibao.policy.loader import get_pack
from yibao.sim.report import TABLES
from yibao.sim.service import Where, run_year
from yibao.sim.store import read_manifest


def _fen(text: str) -> int:
    return parse_yuan(text, field="amount")


@pytest.fixture(scope="module")
def report(province: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("report")
    run_year(province[1], out, reform=None, where=Where(), quiet=True)
    return out, json.loads((out / "report.json").read_text(encoding="utf-8"))


def _direct(claims: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """All claims read at once and settled in one call of the engine."""
    parts = [pq.read_table(claims / p["file"]) for p in read_manifest(claims, "claims")["partitions"]]
    cols = {k: np.concatenate([np.asarray(t.column(k).to_numpy()) for t in parts]) for k in [*COLUMNS, "region"]}
    return cols, settle_batch(cols, get_pack())


def test_totals_equal_the_engine_run_directly(province: tuple[Path, Path], report: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    cols, res = _direct(province[1])
    o = report[1]["overview"]
    assert o["claims"] == len(cols["person_id"])
    assert _fen(o["total"]) == int(cols["total"].sum())
    assert _fen(o["in_scope"]) == int(cols["in_scope"].sum())
    assert _fen(o["fund_pay"]) == int(res["fund_pay"].sum())
    assert _fen(o["catastrophic_pay"]) == int(res["catastrophic_pay"].sum())
    assert _fen(o["personal_pay"]) == int(res["personal_pay"].sum())
    assert o["refused"] == int(np.count_nonzero(res["refused"]))
    assert o["persons_with_claims"] == len(np.unique(cols["person_id"]))
    refusals = {r["code"]: r["claims"] for r in report[1]["refusals"]}
    assert refusals == {code or "paid": int(np.count_nonzero(res["refused"] == i)) for i, code in enumerate(REFUSALS)}
    # Per prefecture too, against a direct grouping.
    for row in report[1]["by_prefecture"]:
        here = cols["region"] == int(row["key"])
        assert _fen(row["fund_pay"]) == int(res["fund_pay"][here].sum())


def test_every_table_adds_up_to_the_overview(report: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    r = report[1]
    for table in ("by_benefit", "by_prefecture", "by_month", "by_age_band", "by_group"):
        for m in ("total", "fund_pay", "catastrophic_pay", "personal_pay"):
            assert sum(_fen(row[m]) for row in r[table]) == _fen(r["overview"][m]), (table, m)
        assert sum(row["claims"] for row in r[table]) == r["overview"]["claims"]
    funds = {row["key"]: _fen(row["amount"]) for row in r["by_fund"]}
    assert funds == {k: _fen(r["overview"][k]) for k in ("fund_pay", "catastrophic_pay", "personal_pay")}
    assert len(r["by_month"]) == 12 and len(r["by_prefecture"]) == 16
    assert sum(row["insured_residents"] for row in r["by_prefecture"]) == r["overview"]["insured_residents"]


def test_person_years_percentiles_bands_and_ceiling(province: tuple[Path, Path], report: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, r = report
    persons = pq.read_table(out / "persons")
    own = np.sort(persons.column("personal_pay").to_numpy())
    assert len(own) == r["out_of_pocket"]["persons_with_claims"]
    assert int(own.sum()) == _fen(r["overview"]["personal_pay"])
    # p90: the smallest value with at least 90% of person-years at or below it.
    p90 = own[int(np.ceil(0.9 * len(own))) - 1]
    assert _fen(r["out_of_pocket"]["percentiles"]["p90"]) == p90
    assert _fen(r["out_of_pocket"]["max"]) == own[-1]
    pack = get_pack()
    threshold = pack.at(np.datetime64("2023-12-31").astype(object)).get("resident.catastrophic.threshold").value
    base = persons.column("catastrophic_base").to_numpy()
    assert r["out_of_pocket"]["over_catastrophic_threshold"]["persons"] == int(np.count_nonzero(base > threshold))
    # The bands' exact pay, rounded once, is within half a fen a stay of what the stays were paid.
    cat = r["catastrophic"]
    paid = _fen(cat["paid"])
    assert paid == int(persons.column("catastrophic_pay").to_numpy().sum())
    stays = int(np.count_nonzero(persons.column("catastrophic_pay").to_numpy()))
    assert abs(_fen(cat["rounding_difference"])) <= max(stays, 1)
    assert paid > 0 and cat["bands"][0]["persons_reaching"] == int(np.count_nonzero(base > threshold))
    scale = compile_scale(
        pack.at(np.datetime64("2023-12-31").astype(object)).get("resident.catastrophic.scale").value, threshold
    )
    exact = sum(scale.scaled(int(b)) for b in base)
    assert abs(sum(_fen(b["pay"]) for b in cat["bands"]) - exact / scale.denominator) <= len(cat["bands"])
    ceiling = r["fund_ceiling"]
    assert ceiling["persons"] == int(
        np.count_nonzero(persons.column("fund_pay").to_numpy() >= _fen(ceiling["ceiling"]))
    )


def test_outputs_for_people_and_machines(report: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, r = report
    for table in TABLES:
        text = (out / "tables" / f"{table}.csv").read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("key,label")
        assert len(text.splitlines()) == len(r[table]) + 1
    pngs = sorted(p.name for p in (out / "charts").glob("*.png"))
    assert pngs == sorted(
        f"{n}.png"
        for n in ("by_benefit", "by_prefecture", "by_month", "out_of_pocket", "catastrophic_bands", "by_age_band")
    )
    assert all((out / "charts" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 6 and "按州（市） By prefecture" in page and "昆明市" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)  # self-contained
    whole, cents = format_yuan(_fen(r["overview"]["fund_pay"])).split(".")
    assert f"{int(whole):,}.{cents}" in page  # grouped by thousands for reading
    assert any(p["overlay"] == "demo" for p in r["policy"])  # the demo overlay's values are named as such
