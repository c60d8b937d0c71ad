"""What a claim looks like on the way in: one Pydantic model per scheme and benefit.

Money is given in yuan as strings ("1234.56") and held as integer fen; floats are refused so that
no claim is ever computed on a binary approximation. Unknown fields are refused too: a typo in a
field name must not silently fall back to a default.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from yibao.core.errors import ValidationFailed
from yibao.core.money import parse_yuan


def _money(v: Any) -> int:
    if isinstance(v, bool | float):
        raise ValueError(
            '金额必须是字符串形式的元，如 "1234.56"，不接受浮点数 / money must be a yuan string such as "1234.56", never a float'
        )
    try:
        return parse_yuan(v)
    except ValidationFailed as exc:
        raise ValueError(f"{exc.message_zh} / {exc.message_en}") from None


Money = Annotated[int, BeforeValidator(_money, json_schema_input_type=str)]
"""An amount in fen, given as a yuan string."""


class _Strict(BaseModel):
    # Built when first used: a command deciding one claim should not build the schema of every benefit.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Sex(StrEnum):
    """Sex as the ID card records it."""

    M = "M"
    F = "F"


class Group(StrEnum):
    """Population group of a resident (deductibles differ)."""

    GENERAL = "general"
    STUDENT_CHILD = "student_child"


class Person(_Strict):
    """The insured person as far as the rules need them."""

    birth_date: date
    sex: Sex
    group: Group = Group.GENERAL
    enrolment_date: date | None = Field(
        default=None, description="参保登记日期；新生儿出生三个月内参保的，自出生之日起享受待遇"
    )


class _Base(_Strict):
    scheme: str
    benefit: str
    date: date
    person: Person


class InpatientYtd(_Strict):
    """Benefit-year accumulators before this stay."""

    fund_paid: Money = 0
    catastrophic_base: Money = 0


class Offsite(StrEnum):
    """Where an inpatient stay happened relative to the pooling region."""

    NONE = "none"
    REFERRAL = "referral"
    EMERGENCY = "emergency"


def _cost_check(total: int, in_scope: int, class_b: int = 0) -> None:
    if in_scope > total:
        raise ValidationFailed(
            "in_scope",
            "医保范围内费用不能大于总费用",
            "in_scope must not exceed total",
        )
    if class_b > in_scope:
        raise ValidationFailed(
            "class_b",
            "乙类费用不能大于医保范围内费用",
            "class_b must not exceed in_scope",
        )


class ResidentInpatient(_Base):
    """A resident's inpatient stay (住院)."""

    scheme: Literal["resident"]
    benefit: Literal["inpatient"]
    hospital_level: Literal[1, 2, 3] | None = None  # off-site stays use the off-site row whatever the level
    offsite: Offsite = Offsite.NONE
    filed: bool = True
    filing_date: date | None = None
    designated: bool = True
    admission_registered: bool = True
    discharge_date: date | None = None
    application_date: date | None = None
    congenital: bool = False
    total: Money
    in_scope: Money
    class_b: Money = 0
    ytd: InpatientYtd = InpatientYtd()

    @model_validator(mode="after")
    def _consistent(self) -> ResidentInpatient:
        _cost_check(self.total, self.in_scope, self.class_b)
        if self.discharge_date is not None and self.discharge_date < self.date:
            raise ValidationFailed(
                "discharge_date", "出院日期早于入院日期", "discharge_date is before the admission date"
            )
        if self.offsite is Offsite.NONE and self.hospital_level is None:
            raise ValidationFailed(
                "hospital_level", "本地住院需要医院级别（1、2、3）", "a local stay needs hospital_level 1, 2 or 3"
            )
        if (
            self.application_date is not None
            and self.discharge_date is not None
            and self.application_date < self.discharge_date
        ):
            raise ValidationFailed(
                "application_date", "申请日期早于出院日期", "application_date is before discharge_date"
            )
        return self


class GeneralOutpatientYtd(_Strict):
    """Benefit-year accumulators before this visit."""

    fund_paid: Money = 0
    general_outpatient_paid: Money = 0


class ResidentGeneralOutpatient(_Base):
    """A resident's ordinary outpatient visit (普通门诊)."""

    scheme: Literal["resident"]
    benefit: Literal["general_outpatient"]
    facility: Literal["community_health_center", "other"]
    total: Money
    in_scope: Money
    ytd: GeneralOutpatientYtd = GeneralOutpatientYtd()

    @model_validator(mode="after")
    def _consistent(self) -> ResidentGeneralOutpatient:
        _cost_check(self.total, self.in_scope)
        return self


class SpecialOutpatientYtd(_Strict):
    """Accumulators before this visit: fund paid this year, in-scope cost counted this month."""

    fund_paid: Money = 0
    month_used: Money = 0


class ResidentSpecialOutpatient(_Base):
    """A resident's special-disease outpatient visit (门诊特殊病)."""

    scheme: Literal["resident"]
    benefit: Literal["special_outpatient"]
    disease: str
    card: bool
    hospital_level: Literal[1, 2, 3] | None = None
    total: Money
    in_scope: Money
    ytd: SpecialOutpatientYtd = SpecialOutpatientYtd()

    @model_validator(mode="after")
    def _consistent(self) -> ResidentSpecialOutpatient:
        _cost_check(self.total, self.in_scope)
        return self


class ResidentMaternity(_Base):
    """An application for the maternity subsidy (生育费用补助); `date` is the application date."""

    scheme: Literal["resident"]
    benefit: Literal["maternity"]
    delivery: Literal["natural", "caesarean"]
    discharge_date: date
    family_planning: bool
    documents_complete: bool
    total: Money | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ResidentMaternity:
        if self.date < self.discharge_date:
            raise ValidationFailed("date", "申请日期早于出院日期", "application date is before discharge_date")
        return self


class ResidentDisabilityAid(_Base):
    """An application for the disability-aid subsidy (残疾人装配辅助器具补助)."""

    scheme: Literal["resident"]
    benefit: Literal["disability_aid"]
    device: Literal["thigh_prosthesis", "lower_leg_prosthesis", "hearing_aid"]
    certificate: bool | None = Field(
        default=None, description="持有残疾证（下肢假肢必填；听力障碍儿童的助听器补助不要求残疾证）"
    )
    last_subsidy_date: date | None = None
    designated: bool = True
    quantity: int = Field(default=1, ge=1, le=2)
    total: Money | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ResidentDisabilityAid:
        if self.device != "hearing_aid" and self.certificate is None:
            raise ValidationFailed(
                "certificate",
                "下肢假肢补助须说明是否持有残疾证",
                "a prosthesis claim must say whether the person holds a disability certificate",
            )
        if self.last_subsidy_date is not None and self.last_subsidy_date > self.date:
            raise ValidationFailed(
                "last_subsidy_date", "上次补助日期晚于申请日期", "last_subsidy_date is after the application date"
            )
        return self


class NcmsOutpatientYtd(_Strict):
    """NCMS year accumulators before this visit."""

    outpatient_paid: Money = 0
    fund_paid: Money = 0


class NcmsOutpatient(_Base):
    """A legacy NCMS outpatient visit (新农合门诊补偿)."""

    scheme: Literal["ncms"]
    benefit: Literal["outpatient"]
    facility: Literal["village_clinic", "township", "level2", "level3"]
    drugs: Money = 0
    exams: Money = 0
    surgery: Money = 0
    tcm_cost: Money = 0
    tcm_doses: int = Field(default=0, ge=0, le=10_000)
    tcm_prescription: bool = True
    iv_prescription: bool = False
    others: Money = 0
    dialysis_or_tumour: bool = False
    ytd: NcmsOutpatientYtd = NcmsOutpatientYtd()

    @property
    def total(self) -> int:
        """Sum of the cost lines."""
        return self.drugs + self.exams + self.surgery + self.tcm_cost + self.others


class NcmsInpatientYtd(_Strict):
    """NCMS year accumulators before this stay."""

    inpatient_cost: Money = 0
    fund_paid: Money = 0


class NcmsInpatient(_Base):
    """A legacy NCMS inpatient stay (新农合住院补偿)."""

    scheme: Literal["ncms"]
    benefit: Literal["inpatient"]
    facility: Literal["township", "level2", "level3"]
    drugs: Money = 0
    exams: Money = 0
    surgery: Money = 0
    others: Money = 0
    bed_days: int = Field(default=0, ge=0, le=3660)
    discharge_date: date | None = None
    ytd: NcmsInpatientYtd = NcmsInpatientYtd()

    @property
    def total(self) -> int:
        """Sum of the cost lines."""
        return self.drugs + self.exams + self.surgery + self.others


Claim = (
    ResidentInpatient
    | ResidentGeneralOutpatient
    | ResidentSpecialOutpatient
    | ResidentMaternity
    | ResidentDisabilityAid
    | NcmsOutpatient
    | NcmsInpatient
)

CLAIM_MODELS: dict[tuple[str, str], type[_Base]] = {
    ("resident", "inpatient"): ResidentInpatient,
    ("resident", "general_outpatient"): ResidentGeneralOutpatient,
    ("resident", "special_outpatient"): ResidentSpecialOutpatient,
    ("resident", "maternity"): ResidentMaternity,
    ("resident", "disability_aid"): ResidentDisabilityAid,
    ("ncms", "outpatient"): NcmsOutpatient,
    ("ncms", "inpatient"): NcmsInpatient,
}


def parse_claim(data: Any) -> Claim:
    """Validate a JSON claim into its typed model; any defect raises ValidationFailed naming the field."""
    if not isinstance(data, dict):
        raise ValidationFailed("claim", "请求体必须是 JSON 对象", "the claim must be a JSON object")
    scheme, benefit = data.get("scheme"), data.get("benefit")
    schemes = sorted({s for s, _ in CLAIM_MODELS})
    if scheme not in schemes:
        raise ValidationFailed("scheme", f"险种必须是 {'、'.join(schemes)} 之一", f"scheme must be one of {schemes}")
    benefits = sorted(b for s, b in CLAIM_MODELS if s == scheme)
    model = CLAIM_MODELS.get((scheme, benefit)) if isinstance(benefit, str) else None
    if model is None:
        raise ValidationFailed(
            "benefit", f"{scheme} 的待遇类型必须是 {'、'.join(benefits)} 之一", f"benefit must be one of {benefits}"
        )
    try:
        claim = model.model_validate(data)
    except ValidationError as exc:
        raise _field_error(exc) from None
    except ValidationFailed:
        raise
    except ValueError as exc:  # a model validator's own ValidationFailed arrives wrapped
        raise ValidationFailed("claim", str(exc), str(exc)) from None
    return claim  # type: ignore[return-value]


def _field_error(exc: ValidationError) -> ValidationFailed:
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in err["loc"]) or "claim"
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, ValidationFailed):
        return ctx_error
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        return ValidationFailed(field, "未知字段", "unknown field", code="validation_failed")
    if kind == "missing":
        return ValidationFailed(field, "缺少必填字段", "field required")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if " / " in msg:
        zh, en = msg.split(" / ", 1)
        return ValidationFailed(field, zh, en)
    return ValidationFailed(field, f"取值无效：{msg}", msg)
