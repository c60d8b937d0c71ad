from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from yibao.engine.batch import settle_batch
from yibao.engine.batch_cli import app, read_claims
from yibao.policy.loader import get_pack

runner = CliRunner()


def test_generate_then_settle(tmp_path: Path) -> None:
    claims, decisions = tmp_path / "claims.parquet", tmp_path / "decisions.parquet"
    assert runner.invoke(app, ["generate", "--claims", "3000", "--out", str(claims)]).exit_code == 0
    r = runner.invoke(app, ["settle", str(claims), "--out", str(decisions), "--chunk", "500"])
    assert r.exit_code == 0, r.output
    out = pq.read_table(decisions)
    assert out.num_rows == 3000
    cols, _ = read_claims(claims)
    direct = settle_batch(cols, get_pack())
    assert np.array_equal(out.column("fund_pay").to_numpy(), direct["fund_pay"])
    assert np.array_equal(out.column("catastrophic_pay").to_numpy(), direct["catastrophic_pay"])
    total = out.column("total").to_numpy()
    paid = out.column("fund_pay").to_numpy() + out.column("catastrophic_pay").to_numpy()
    assert np.array_equal(out.column("personal_pay").to_numpy(), total - paid)


def test_labels_and_yuan_strings_are_accepted(tmp_path: Path) -> None:
    f = tmp_path / "c.parquet"
    row = {
        "person_id": [1],
        "date": pa.array([date(2016, 3, 1)]),
        "kind": ["inpatient"],
        "birth_date": pa.array([date(1970, 5, 20)]),
        "sex": ["F"],
        "group": ["general"],
        "hospital_level": [3],
        "offsite": ["none"],
        "designated": [True],
        "registered": [True],
        "filed": [True],
        "on_time": [True],
        "community_health_center": [True],
        "card": [True],
        "disease": ["diabetes"],
        "total": ["12000.00"],
        "in_scope": ["10000.00"],
        "class_b": ["1000.00"],
    }
    pq.write_table(pa.table(row), f)
    out = tmp_path / "d.parquet"
    r = runner.invoke(app, ["settle", str(f), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert pq.read_table(out).column("fund_pay").to_pylist() == [651000]  # 6510.00 yuan, as `yibao calc` says


def test_bad_files_are_refused_with_the_column(tmp_path: Path) -> None:
    f = tmp_path / "c.parquet"
    pq.write_table(pa.table({"person_id": [1], "total": [1.5]}), f)
    r = runner.invoke(app, ["settle", str(f), "--out", str(tmp_path / "d.parquet")])
    assert r.exit_code == 2
