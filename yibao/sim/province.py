"""Making the synthetic province on disk: a population dataset, then a year of claims for it.

Each partition is one task (``make_population_part``, ``make_claims_part``) that can run in this process
or on a Dask worker: it draws from its own random stream and writes its own file, so the datasets are the
same whoever makes them and in whatever order.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.errors import ValidationFailed
from yibao.sim.claims import claims_partition
from yibao.sim.cluster import map_partitions
from yibao.sim.frame import AGE_LABELS, GROUP_LABELS, PREFECTURES, Frame
from yibao.sim.population import POPULATION_COLUMNS, population_partition
from yibao.sim.shape import Shape
from yibao.sim.store import (
    Partition,
    part_name,
    partitions,
    prepare_folder,
    read_columns,
    read_manifest,
    write_manifest,
    write_table,
)

I64 = npt.NDArray[np.int64]
MAX_PERSONS = 100_000_000


def make_population_part(
    folder: str, shape: Shape, diseases: tuple[str, ...], seed: int, index: int, lo: int, hi: int, as_of: date
) -> tuple[int, int]:
    """Make and write population partition ``index`` (persons ``lo`` to ``hi - 1``)."""
    cols = population_partition(shape, diseases, seed=seed, index=index, lo=lo, hi=hi, as_of=as_of)
    return index, write_table(Path(folder) / part_name(index), cols)


def make_population(
    out: Path,
    shape: Shape,
    shape_sha: str,
    diseases: tuple[str, ...],
    *,
    persons: int,
    seed: int,
    as_of: date,
    partition_persons: int,
    shape_file: str,
    client: Any = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write the insured persons of the synthetic province to ``out``; returns the manifest."""
    if not 1 <= persons <= MAX_PERSONS:
        raise ValidationFailed("persons", f"人数须在1至{MAX_PERSONS}之间", f"persons must lie in 1..{MAX_PERSONS}")
    if partition_persons < 1:
        raise ValidationFailed("partition_persons", "每个分区至少一人", "a partition holds at least one person")
    prepare_folder(out)
    bounds = [
        (i, lo, min(lo + partition_persons, persons)) for i, lo in enumerate(range(0, persons, partition_persons))
    ]
    items = [(str(out), shape, diseases, seed, i, lo, hi, as_of) for i, lo, hi in bounds]
    done = map_partitions(client, make_population_part, items, "参保人 population", quiet=quiet)
    rows = dict(done)
    manifest = {
        "kind": "population",
        "seed": seed,
        "persons": persons,
        "partition_persons": partition_persons,
        "as_of": as_of.isoformat(),
        "shape_sha256": shape_sha,
        "shape_file": shape_file,
        "columns": POPULATION_COLUMNS,
        "partitions": [{"index": i, "file": part_name(i), "lo": lo, "hi": hi, "rows": rows[i]} for i, lo, hi in bounds],
    }
    write_manifest(out, manifest)
    return manifest


def insured_counts(people: dict[str, npt.NDArray[Any]], frame: Frame) -> tuple[I64, I64]:
    """Residents by prefecture, age band and group; employees by prefecture."""
    n_r, n_a, n_g = len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS)
    region = np.searchsorted(np.array([int(c) for c in PREFECTURES]), people["region"])
    age = frame.age_band(people["birth_date"].astype(np.int64))
    resident = people["scheme"] == 0
    cell = (region * n_a + age) * n_g + people["group"]
    residents = np.bincount(cell[resident], minlength=n_r * n_a * n_g).reshape(n_r, n_a, n_g)
    employees = np.bincount(region[~resident], minlength=n_r)
    return residents.astype(np.int64), employees.astype(np.int64)


def make_claims_part(
    population: str, folder: str, shape: Shape, frame: Frame, diseases: tuple[str, ...], seed: int, part: Partition
) -> tuple[int, int, I64, I64]:
    """Make and write the claims of one population partition; returns its rows and insured counts."""
    people = read_columns(Path(population) / part.file, list(POPULATION_COLUMNS))
    cols = claims_partition(people, shape, frame, diseases, seed=seed, index=part.index)
    rows = write_table(Path(folder) / part_name(part.index), cols)
    residents, employees = insured_counts(people, frame)
    return part.index, rows, residents, employees


def make_claims(
    population: Path,
    out: Path,
    shape: Shape,
    shape_sha: str,
    diseases: tuple[str, ...],
    frame: Frame,
    *,
    seed: int,
    shape_file: str,
    client: Any = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write a benefit year of claims for the population in ``population`` to ``out``; returns the manifest."""
    pop = read_manifest(population, "population")
    prepare_folder(out)
    parts = partitions(pop)
    items = [(str(population.resolve()), str(out), shape, frame, diseases, seed, p) for p in parts]
    done = map_partitions(client, make_claims_part, items, "理赔 claims", quiet=quiet)
    residents = sum((d[2] for d in done), np.zeros((len(PREFECTURES), len(AGE_LABELS), len(GROUP_LABELS)), np.int64))
    employees = sum((d[3] for d in done), np.zeros(len(PREFECTURES), np.int64))
    rows = {d[0]: d[1] for d in done}
    manifest = {
        "kind": "claims",
        "seed": seed,
        "benefit_year": frame.to_dict(),
        "population": {"folder": str(population.resolve()), "seed": pop["seed"], "persons": pop["persons"]},
        "shape_sha256": shape_sha,
        "shape_file": shape_file,
        "claims": sum(rows.values()),
        "insured": {"residents": residents.tolist(), "employees": employees.tolist()},
        "partitions": [
            {"index": p.index, "file": part_name(p.index), "lo": p.lo, "hi": p.hi, "rows": rows[p.index]} for p in parts
        ],
    }
    write_manifest(out, manifest)
    return manifest
