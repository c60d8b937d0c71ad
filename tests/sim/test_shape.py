"""The shape file: every parameter cited or assumed, census figures that add up, errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from yibao.sim.shape import SHAPE_FILE, ShapeError, load_shape


def _edited(tmp_path: Path, edit: object) -> Path:
    raw = yaml.safe_load(SHAPE_FILE.read_text(encoding="utf-8"))
    edit(raw["parameters"])  # type: ignore[operator]
    path = tmp_path / "shape.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_packaged_shape_loads_and_every_parameter_is_cited_or_assumed() -> None:
    shape, sha = load_shape()
    assert len(sha) == 64
    params = [getattr(shape.parameters, n) for n in type(shape.parameters).model_fields]
    assert params and all(bool(p.source) != p.assumed for p in params)
    assert all(p.note for p in params if p.assumed)
    # The census figures are the cited ones; the medical figures are assumptions until a deployment sets them.
    p = shape.parameters
    assert not p.prefecture_population.assumed and not p.age_structure.assumed and not p.sex.assumed
    assert p.inpatient_rate.assumed and p.inpatient_cost.assumed
    assert sum(p.prefecture_population.value.values()) == p.province_population.value == 47_209_277


def test_a_value_without_source_or_assumption_is_refused(tmp_path: Path) -> None:
    def drop(params: dict) -> None:  # type: ignore[type-arg]
        del params["sex"]["source"], params["sex"]["url"]

    with pytest.raises(ShapeError) as err:
        load_shape(_edited(tmp_path, drop))
    assert "parameters.sex" in err.value.message_en and "source" in err.value.message_en


def test_an_assumed_value_needs_its_note(tmp_path: Path) -> None:
    def drop(params: dict) -> None:  # type: ignore[type-arg]
        del params["inpatient_rate"]["note"]

    with pytest.raises(ShapeError) as err:
        load_shape(_edited(tmp_path, drop))
    assert "inpatient_rate" in err.value.message_en and "note" in err.value.message_en


def test_prefectures_must_add_up_to_the_province_and_the_error_names_the_line(tmp_path: Path) -> None:
    def shrink(params: dict) -> None:  # type: ignore[type-arg]
        params["prefecture_population"]["value"]["530100"] -= 1

    path = _edited(tmp_path, shrink)
    with pytest.raises(ShapeError) as err:
        load_shape(path)
    assert "prefecture_population adds up to 47209276" in err.value.message_en
    assert "(line " in err.value.message_en


def test_shares_are_checked(tmp_path: Path) -> None:
    def bad(params: dict) -> None:  # type: ignore[type-arg]
        params["general_community_share"]["value"] = 1.5
        params["month_weights"]["value"] = [1.0] * 11

    with pytest.raises(ShapeError) as err:
        load_shape(_edited(tmp_path, bad))
    assert "general_community_share" in err.value.message_en and "month_weights" in err.value.message_en
