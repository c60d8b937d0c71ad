"""The synthetic province's shape: one YAML file, every parameter with its public source or marked assumed.

``shape.yaml`` beside this module is the default; ``--shape FILE`` takes another file of the same form.
Each parameter carries ``description`` (Chinese), ``description_en``, its ``value``, and either a
``source`` (a public document's title, with its ``url`` where known) or ``assumed: true`` with a ``note``
saying what a deployment should replace it with. Loading checks every field, and that the census
figures add up (prefectures to the province, men and women and the age bands to the total).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yibao.core.errors import AppError
from yibao.sim.frame import PREFECTURES

SHAPE_FILE = Path(__file__).with_name("shape.yaml")
AGE_BANDS = ("0-14", "15-59", "60+")  # the census bands the rates are given for
PLACES = ("level1", "level2", "level3", "offsite")
BENEFITS = ("inpatient", "general_outpatient", "special_outpatient")

T = TypeVar("T")


class ShapeError(AppError):
    """The shape file is malformed; lists every problem with its place in the file."""

    code = "sim.invalid_shape"
    http_status = 500
    exit_code = 2

    def __init__(self, file: Path, problems: list[str]) -> None:
        lines = "\n".join(f"{file}: {p}" for p in problems)
        super().__init__(
            f"合成省份形状参数有 {len(problems)} 处错误：\n{lines}",
            f"the shape file has {len(problems)} problem(s):\n{lines}",
            details={"problems": problems},
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Strict, Generic[T]):
    """One shape parameter: its value and where it comes from."""

    description: str = Field(min_length=1)
    description_en: str = Field(min_length=1)
    value: T
    source: str | None = None
    url: str | None = None
    assumed: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _cited_or_assumed(self) -> Param[T]:
        if self.assumed:
            if not self.note:
                raise ValueError("an assumed value needs a note saying what a deployment should replace it with")
            if self.source or self.url:
                raise ValueError("a value is either cited (source) or assumed, not both")
        elif not self.source:
            raise ValueError("value without a source: give source (and url), or assumed: true with a note")
        return self


class Share(_Strict):
    """A uniform range of shares."""

    low: float = Field(ge=0, lt=1)
    high: float = Field(ge=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Share:
        if self.high < self.low:
            raise ValueError("high must not be below low")
        return self


class Lognormal(_Strict):
    """A lognormal cost: median and cap in yuan, log standard deviation."""

    median: float = Field(gt=0)
    sigma: float = Field(ge=0, le=3)
    cap: float = Field(gt=0)


class Spread(_Strict):
    """The spread and cap of a lognormal cost whose medians are given elsewhere."""

    sigma: float = Field(ge=0, le=3)
    cap: float = Field(gt=0)


class InpatientCost(_Strict):
    """Stay costs by place."""

    median: dict[str, float]
    sigma: float = Field(ge=0, le=3)
    cap: float = Field(gt=0)


class AgeWithin(_Strict):
    """Ages inside the census bands."""

    elderly_decline_per_year: float = Field(gt=0, le=1)
    oldest: int = Field(ge=60, le=120)


class Employees(_Strict):
    """Employee-scheme shares of working-age and retired insured persons, and where those ages begin."""

    working: float = Field(ge=0, le=1)
    retired: float = Field(ge=0, le=1)
    working_from_age: int = Field(ge=14, le=30)
    retirement_age: int = Field(ge=45, le=70)


class Students(_Strict):
    """Residents of university age insured in the student/child group."""

    share: float = Field(ge=0, le=1)
    from_age: int = Field(ge=15, le=30)
    to_age: int = Field(ge=15, le=40)


class Disease(_Strict):
    """A special disease's weight among card holders and its median visit cost (yuan)."""

    weight: float = Field(gt=0)
    median: float = Field(gt=0)


class Compliance(_Strict):
    """Shares of claims with the paperwork in order."""

    designated: float = Field(ge=0, le=1)
    registered: float = Field(ge=0, le=1)
    filed: float = Field(ge=0, le=1)
    on_time: float = Field(ge=0, le=1)


def _probability(x: float) -> float:
    if not 0 <= x <= 1:
        raise ValueError(f"{x} is not a share between 0 and 1")
    return x


class Parameters(_Strict):
    """Every shape parameter of the synthetic province."""

    province_population: Param[int]
    prefecture_population: Param[dict[str, int]]
    sex: Param[dict[str, int]]
    age_structure: Param[dict[str, int]]
    age_within_band: Param[AgeWithin]
    employee_share: Param[Employees]
    university_students: Param[Students]
    inpatient_rate: Param[dict[str, float]]
    inpatient_place: Param[dict[str, float]]
    offsite_referral_share: Param[float]
    inpatient_cost: Param[InpatientCost]
    general_visits: Param[dict[str, float]]
    general_community_share: Param[float]
    general_cost: Param[Lognormal]
    special_card_prevalence: Param[dict[str, float]]
    special_visits: Param[float]
    special_without_card_share: Param[float]
    special_diseases: Param[dict[str, Disease]]
    special_cost: Param[Spread]
    out_of_scope_share: Param[dict[str, Share]]
    class_b_share: Param[Share]
    compliance: Param[Compliance]
    month_weights: Param[list[float]]

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        problems: list[str] = []
        prefectures = self.prefecture_population.value
        expected = list(PREFECTURES)
        if sorted(prefectures) != sorted(expected):
            problems.append(f"prefecture_population must list the 16 prefectures {', '.join(expected)}")
        total = self.province_population.value
        for name, parts in (
            ("prefecture_population", prefectures),
            ("sex", self.sex.value),
            ("age_structure", self.age_structure.value),
        ):
            if sum(parts.values()) != total:
                problems.append(f"{name} adds up to {sum(parts.values())}, not the province's {total}")
        if sorted(self.sex.value) != ["female", "male"]:
            problems.append("sex must give male and female")
        for name in ("age_structure", "inpatient_rate", "general_visits", "special_card_prevalence"):
            if sorted(getattr(self, name).value) != sorted(AGE_BANDS):
                problems.append(f"{name} must give the age bands {', '.join(AGE_BANDS)}")
        if sorted(self.inpatient_place.value) != sorted(PLACES):
            problems.append(f"inpatient_place must give {', '.join(PLACES)}")
        if sorted(self.inpatient_cost.value.median) != sorted(PLACES):
            problems.append(f"inpatient_cost.median must give {', '.join(PLACES)}")
        if abs(sum(self.inpatient_place.value.values()) - 1) > 1e-9:
            problems.append("inpatient_place shares must add up to 1")
        if sorted(self.out_of_scope_share.value) != sorted(BENEFITS):
            problems.append(f"out_of_scope_share must give {', '.join(BENEFITS)}")
        if len(self.month_weights.value) != 12 or min(self.month_weights.value) <= 0:
            problems.append("month_weights must give 12 positive weights")
        for name in (
            "offsite_referral_share",
            "general_community_share",
            "special_without_card_share",
        ):
            try:
                _probability(getattr(self, name).value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        for rates in (self.special_card_prevalence.value,):
            for band, x in rates.items():
                if not 0 <= x <= 1:
                    problems.append(f"special_card_prevalence[{band}] is not a share")
        for name in ("inpatient_rate", "general_visits"):
            for band, x in getattr(self, name).value.items():
                if x < 0:
                    problems.append(f"{name}[{band}] must not be negative")
        if self.special_visits.value < 0:
            problems.append("special_visits must not be negative")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Shape(_Strict):
    """The shape file: a description and its parameters."""

    description: str
    description_en: str
    parameters: Parameters


def load_shape(path: Path | None = None) -> tuple[Shape, str]:
    """Load and check a shape file; returns it with the SHA-256 of its text (recorded in every manifest)."""
    file = path or SHAPE_FILE
    try:
        text = file.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ShapeError(file, [f"cannot read: {exc}"]) from None
    return _parse(file, text, raw), hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=8)
def _cached(path: str) -> tuple[Shape, str]:
    return load_shape(Path(path))


def shape_at(path: Path | None = None) -> tuple[Shape, str]:
    """``load_shape``, once per process and file."""
    return _cached(str(path or SHAPE_FILE))


def _parse(file: Path, text: str, raw: object) -> Shape:
    try:
        return Shape.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top)"
            problems.append(f"{where}: {e['msg']}{_line(text, e['loc'])}")
        raise ShapeError(file, problems) from None


def _line(text: str, loc: tuple[int | str, ...]) -> str:
    """' (line N)' for the deepest key of ``loc`` found in order in the text, to point at the place."""
    lines = text.splitlines()
    at = 0
    found = None
    for key in loc:
        if not isinstance(key, str):
            continue
        for i in range(at, len(lines)):
            stripped = lines[i].lstrip()
            if stripped.startswith((f"{key}:", f'"{key}":')):
                found, at = i, i + 1
                break
    return f" (line {found + 1})" if found is not None else ""
