"""A small synthetic province made once per test run: 3,000 persons in three partitions, a year of claims."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from yibao.sim.service import Where, make_province_claims, make_province_population

PERSONS = 3000
PARTITION = 1000


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(population folder, claims folder) of the 2023 benefit year."""
    root = tmp_path_factory.mktemp("province")
    pop, claims = root / "pop", root / "claims"
    make_province_population(
        pop,
        persons=PERSONS,
        seed=7,
        as_of=date(2023, 1, 1),
        partition_persons=PARTITION,
        shape_file=None,
        where=Where(),
        quiet=True,
    )
    make_province_claims(pop, claims, year=2023, seed=7, shape_file=None, where=Where(), quiet=True)
    return pop, claims
