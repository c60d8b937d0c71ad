"""The synthetic province: shaped like the shape file, a person's year in one partition, the same for a seed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.sim.conftest import PERSONS
from yibao.core.errors import ValidationFailed
from yibao.engine.batch import KIND_SPECIAL
from yibao.policy.loader import get_pack
from yibao.sim.claims import claims_partition
from yibao.sim.frame import PREFECTURES, benefit_year
from yibao.sim.population import disease_codes, population_partition
from yibao.sim.service import Where, make_province_population
from yibao.sim.shape import load_shape
from yibao.sim.store import read_manifest

SHAPE, _ = load_shape()
FRAME = benefit_year(2023, get_pack())
DISEASES = disease_codes(get_pack(), FRAME.start, SHAPE)


def _people(seed: int, index: int, lo: int, hi: int) -> dict[str, np.ndarray]:
    return population_partition(SHAPE, DISEASES, seed=seed, index=index, lo=lo, hi=hi, as_of=date(2023, 1, 1))


def test_the_benefit_years_of_the_pack() -> None:
    pack = get_pack()
    assert (benefit_year(2023, pack).start, benefit_year(2023, pack).end) == (date(2023, 1, 1), date(2023, 12, 31))
    assert (benefit_year(2016, pack).start, benefit_year(2016, pack).end) == (date(2015, 10, 1), date(2016, 9, 30))
    assert len(benefit_year(2016, pack).months) == 12


def test_same_seed_same_province_another_seed_another() -> None:
    a, b, c = _people(5, 0, 0, 2000), _people(5, 0, 0, 2000), _people(6, 0, 0, 2000)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["birth_date"], c["birth_date"])
    ca = claims_partition(a, SHAPE, FRAME, DISEASES, seed=5, index=0)
    cb = claims_partition(b, SHAPE, FRAME, DISEASES, seed=5, index=0)
    assert all(np.array_equal(ca[k], cb[k]) for k in ca)


def test_a_partition_is_made_alone_the_same_as_with_the_others(tmp_path: Path) -> None:
    # Partition 2 of a 3-partition population equals partition 2 made on its own.
    make_province_population(
        tmp_path / "p",
        persons=3000,
        seed=9,
        as_of=date(2023, 1, 1),
        partition_persons=1000,
        shape_file=None,
        where=Where(),
        quiet=True,
    )
    alone = _people(9, 2, 2000, 3000)
    table = pq.read_table(tmp_path / "p" / "part-00002.parquet")
    assert all(np.array_equal(np.asarray(table.column(k).to_numpy()), alone[k]) for k in alone)


def test_the_population_follows_the_census_shape() -> None:
    people = _people(1, 0, 0, 200_000)
    p = SHAPE.parameters
    pops = np.array([p.prefecture_population.value[c] for c in PREFECTURES], dtype=float)
    counts = np.array([np.count_nonzero(people["region"] == int(c)) for c in PREFECTURES])
    # 200,000 draws: each prefecture's share within 0.5 percentage points of the census share.
    assert np.abs(counts / counts.sum() - pops / pops.sum()).max() < 0.005
    male = p.sex.value["male"] / p.province_population.value
    assert abs(np.count_nonzero(people["sex"] == 0) / 200_000 - male) < 0.005
    birth = people["birth_date"].astype("datetime64[D]")
    age = (np.datetime64("2023-01-01") - birth).astype(int) / 365.2425
    elderly = p.age_structure.value["60+"] / p.province_population.value
    assert abs(np.count_nonzero(age >= 60) / 200_000 - elderly) < 0.005
    # Residents under 18 are all in the student/child group; employees are working age or retired.
    resident = people["scheme"] == 0
    assert (people["group"][resident & (age < 17.9)] == 1).all()
    assert (age[~resident] >= 17.9).all()
    assert (people["disease"][~resident] == -1).all()


def test_claims_are_sorted_within_the_year_and_each_person_in_one_partition(province: tuple[Path, Path]) -> None:
    pop, claims = province
    manifest = read_manifest(claims, "claims")
    assert manifest["population"]["persons"] == PERSONS and len(manifest["partitions"]) == 3
    seen: set[int] = set()
    rows = 0
    for part in manifest["partitions"]:
        t = pq.read_table(claims / part["file"])
        person = t.column("person_id").to_numpy()
        day = t.column("date").to_numpy().astype("datetime64[D]")
        rows += t.num_rows
        assert ((person[1:] > person[:-1]) | ((person[1:] == person[:-1]) & (day[1:] >= day[:-1]))).all()
        assert person.min() >= part["lo"] and person.max() < part["hi"]
        assert not seen & set(person.tolist())
        seen |= set(person.tolist())
        assert day.min() >= np.datetime64(FRAME.start) and day.max() <= np.datetime64(FRAME.end)
        kind = t.column("kind").to_numpy()
        assert (t.column("in_scope").to_numpy() <= t.column("total").to_numpy()).all()
        # Special-disease visits are made by card holders, for their own disease.
        people = pq.read_table(pop / part["file"]).to_pydict()
        disease = dict(zip(people["person_id"], people["disease"], strict=True))
        scheme = dict(zip(people["person_id"], people["scheme"], strict=True))
        sp = kind == KIND_SPECIAL
        assert all(disease[pid] == d for pid, d in zip(person[sp], t.column("disease").to_numpy()[sp], strict=True))
        assert all(scheme[pid] == 0 for pid in set(person.tolist()))  # residents only
    assert rows == manifest["claims"]
    insured = np.array(manifest["insured"]["residents"]).sum() + np.array(manifest["insured"]["employees"]).sum()
    assert insured == PERSONS


def test_an_existing_dataset_is_never_overwritten(province: tuple[Path, Path]) -> None:
    pop, _ = province
    with pytest.raises(ValidationFailed) as err:
        make_province_population(
            pop,
            persons=10,
            seed=1,
            as_of=date(2023, 1, 1),
            partition_persons=10,
            shape_file=None,
            where=Where(),
            quiet=True,
        )
    assert err.value.field == "out"
