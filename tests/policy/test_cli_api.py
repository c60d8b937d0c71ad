from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from yibao.api.app import create_app
from yibao.policy.cli import app

runner = CliRunner()


def test_show_one_parameter_as_json() -> None:
    r = runner.invoke(app, ["show", "resident.premium.individual", "--date", "2023-06-01", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["value"] == "350.00"
    assert "350元" in body["citation"]["quote"]
    assert [h["value"] for h in body["history"]] == ["320.00", "350.00"]


def test_show_human_and_tree() -> None:
    one = runner.invoke(app, ["show", "resident.inpatient.deductible", "--date", "2016-01-01"])
    assert one.exit_code == 0 and "600" in one.stdout
    tree = runner.invoke(app, ["show", "ncms", "--date", "2017-06-01"])
    assert tree.exit_code == 0 and "yearly_cap" in tree.stdout


def test_show_unknown_and_bad_date() -> None:
    assert runner.invoke(app, ["show", "no.such", "--json"]).exit_code == 3
    assert runner.invoke(app, ["show", "resident.fund_ceiling", "--date", "2016-02-30"]).exit_code == 2


def test_check_clean_and_broken(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("overlay: bad\nvalues:\n  resident.fund_ceiling:\n    2015-10-01:\n      value: 1\n      note: n\n")
    r = runner.invoke(app, ["check", "--overlay", str(bad)])
    assert r.exit_code == 2
    assert "bad.yaml:3" in r.stdout


def test_api_parameters() -> None:
    client = TestClient(create_app())
    r = client.get("/api/policy/parameters/resident.premium.individual", params={"date": "2023-06-01"})
    assert r.status_code == 200 and r.json()["value"] == "350.00"
    assert r.json()["history"][0]["from"] == "2022-01-01"
    lst = client.get("/api/policy/parameters", params={"date": "2016-01-01", "prefix": "resident.inpatient"})
    assert lst.status_code == 200 and {p["path"] for p in lst.json()} >= {"resident.inpatient.deductible"}
    assert client.get("/api/policy/parameters", params={"prefix": "zzz"}).status_code == 404


def test_check_prints_file_and_line_of_every_defect(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "overlay: bad\nexample: maybe\nvalues:\n  resident.fund_ceiling:\n    2015-10-01:\n      value: 1\n"
        "      note: n\n  resident.special_outpatient.ratio:\n    2015-10-01:\n      note: 比例\n"
        "      table: {diabetes: 0.7}\n"
    )
    r = runner.invoke(app, ["check", "--overlay", str(bad)])
    assert r.exit_code == 2
    lines = [line for line in r.stdout.splitlines() if line.startswith(f"{bad}:")]
    assert [line.split(": ", 1)[0] for line in lines] == [f"{bad}:2", f"{bad}:4", f"{bad}:11"], r.stdout
    assert "example: must be true or false" in lines[0]
    assert "resident.fund_ceiling is a sourced policy value" in lines[1]
    assert "table (disease) lacks coronary_heart_disease" in lines[2]
    assert "3 处错误 / defect(s)" in r.stdout


def test_check_with_a_reform_names_it(tmp_path: Path) -> None:
    reform = tmp_path / "reform.yaml"
    reform.write_text(
        "overlay: ceiling\nreform: true\ntitle: 基金年度最高支付限额提高\nvalues:\n  resident.fund_ceiling:\n"
        "    2016-01-01:\n      value: 200000\n      note: 测算方案\n"
    )
    demo = Path(__file__).parents[2] / "yibao" / "policy" / "overlays" / "demo.yaml"
    r = runner.invoke(app, ["check", "--overlay", str(demo), "--overlay", str(reform)])
    assert r.exit_code == 0, r.stdout
    assert "ceiling（基金年度最高支付限额提高）" in r.stdout
