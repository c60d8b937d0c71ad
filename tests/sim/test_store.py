"""Partition files: written with required, delta-encoded columns, read back exactly, refused when unfit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yibao.core.errors import ValidationFailed
from yibao.sim.store import read_columns, write_table


def _columns(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(n)
    return {
        "person_id": np.sort(rng.integers(0, 10**9, n)),
        "date": (19000 + rng.integers(0, 365, n)).astype("datetime64[D]"),
        "kind": rng.integers(0, 3, n).astype(np.int8),
        "disease": rng.integers(-1, 30, n).astype(np.int16),
        "region": rng.integers(530100, 533400, n).astype(np.int32),
        "card": rng.random(n) < 0.3,
        "total": rng.integers(0, 10**8, n),
    }


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 300_000])
def test_what_is_written_is_read_back_exactly(tmp_path: Path, n: int) -> None:
    cols = _columns(n)
    assert write_table(tmp_path / "p.parquet", cols) == n
    back = read_columns(tmp_path / "p.parquet", list(cols))
    for k, v in cols.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v), k
    meta = pq.ParquetFile(tmp_path / "p.parquet").metadata
    assert meta.num_row_groups == 1
    if n:
        chunk = meta.row_group(0).column(0)
        assert "DELTA_BINARY_PACKED" in chunk.encodings and chunk.compression == "UNCOMPRESSED"
        # Statistics for the column partitions are looked up by, none for the others.
        assert chunk.statistics.min == cols["person_id"].min() and chunk.statistics.max == cols["person_id"].max()
        assert not meta.row_group(0).column(list(cols).index("total")).is_stats_set
    schema = pq.read_schema(tmp_path / "p.parquet")
    assert not any(f.nullable for f in schema)


def test_files_of_other_writers_are_read_too(tmp_path: Path) -> None:
    # Nullable columns, LZ4, several row groups, booleans starting inside a byte: as another program writes them.
    cols = _columns(5000)
    table = pa.table(cols).slice(3)
    pq.write_table(table, tmp_path / "other.parquet", compression="lz4", row_group_size=777)
    back = read_columns(tmp_path / "other.parquet", ["card", "total", "date"])
    for k in ("card", "total", "date"):
        assert np.array_equal(back[k], cols[k][3:]), k


def test_empty_values_floats_and_missing_columns_are_refused(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"a": pa.array([1, None, 3], type=pa.int64()), "f": [1.5, 2.0, 3.0]}), tmp_path / "x.parquet"
    )
    with pytest.raises(ValidationFailed) as e:
        read_columns(tmp_path / "x.parquet", ["a"])
    assert e.value.field == "a"
    with pytest.raises(ValidationFailed) as e:
        read_columns(tmp_path / "x.parquet", ["f"])
    assert e.value.field == "f"
    with pytest.raises(ValidationFailed) as e:
        read_columns(tmp_path / "x.parquet", ["a", "nope"])
    assert e.value.field == "columns" and "nope" in e.value.message_en
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValidationFailed) as e:
        read_columns(tmp_path / "bad.parquet", ["a"])
    assert e.value.field == "file"
