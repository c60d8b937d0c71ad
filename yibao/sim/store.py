"""Partitioned Parquet datasets: a folder of ``part-NNNNN.parquet`` files and a ``_manifest.json``.

A partition holds a contiguous range of person ids, sorted by person and date, so a person's year
never straddles two files: every yearly accumulator can be settled from one partition alone, on any
worker. The manifest records how the data was made (seed, sizes, the shape file's hash) and what a
report needs that the claims do not carry (the benefit year, insured persons without claims).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from yibao.core.errors import ValidationFailed

MANIFEST = "_manifest.json"


@dataclass(frozen=True, slots=True)
class Partition:
    """One file of a dataset and the person ids it holds (``lo`` inclusive, ``hi`` exclusive)."""

    index: int
    file: str
    lo: int
    hi: int
    rows: int


def part_name(index: int) -> str:
    """The file name of partition ``index``."""
    return f"part-{index:05d}.parquet"


def write_table(path: Path, columns: Mapping[str, npt.NDArray[Any]]) -> int:
    """Write NumPy columns as one Parquet file (written aside, then renamed: never half a file); rows written."""
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    tmp = path.with_name(path.name + ".tmp")
    # One row group per partition (readers take whole partitions); LZ4 without dictionaries: the
    # fastest to read back of the Parquet encodings measured here, at about 20 bytes a claim.
    pq.write_table(table, tmp, compression="lz4", use_dictionary=False, row_group_size=max(1, table.num_rows))
    os.replace(tmp, path)
    return int(table.num_rows)


def read_columns(path: Path, names: list[str]) -> dict[str, npt.NDArray[Any]]:
    """Read the named columns of one partition as NumPy arrays (dates as datetime64[D])."""
    try:
        table = pq.read_table(path, columns=names)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValidationFailed("file", f"无法读取 {path}：{exc}", f"cannot read {path}: {exc}") from None
    out: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        col = table.column(name)
        if col.null_count:
            raise ValidationFailed(name, f"{path} 的该列有空值", f"{path} has empty values in this column")
        if pa.types.is_floating(col.type):
            raise ValidationFailed(name, "不接受浮点数列", "floating-point columns are refused")
        out[name] = np.asarray(col.to_numpy())
    return out


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Write the dataset's manifest (last, so a folder with a manifest is complete)."""
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def read_manifest(folder: Path, kind: str) -> dict[str, Any]:
    """The manifest of a dataset of ``kind`` ("population" or "claims"), or a clear error."""
    file = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValidationFailed(
            "folder",
            f"{folder} 不是完整的数据集（缺少 {MANIFEST}）",
            f"{folder} is not a complete dataset (no readable {MANIFEST})",
        ) from None
    if manifest.get("kind") != kind:
        raise ValidationFailed(
            "folder",
            f"{folder} 是 {manifest.get('kind')} 数据集，这里需要 {kind}",
            f"{folder} holds {manifest.get('kind')}, not {kind}",
        )
    return manifest


def partitions(manifest: Mapping[str, Any]) -> list[Partition]:
    """The partitions a manifest lists."""
    return [Partition(**p) for p in manifest["partitions"]]


def prepare_folder(folder: Path) -> None:
    """Create an output folder; refuse one that already holds a dataset (never mix two runs' files)."""
    if (folder / MANIFEST).exists() or any(folder.glob("part-*.parquet")):
        raise ValidationFailed(
            "out", f"{folder} 已有数据，请换一个空文件夹", f"{folder} already holds data; choose an empty folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
