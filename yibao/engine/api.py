"""``POST /api/calc``: the same contract as ``yibao calc`` over HTTP."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from yibao.core.auth import needs, public_rule
from yibao.engine import decide_json
from yibao.engine.claims import CLAIM_MODELS

router = APIRouter(prefix="/api", tags=["engine"])

# A trial calculation: the claim comes in the request and nothing is read or stored.
CALC = public_rule("calc", "待遇测算 / benefit calculation")


def claim_schemas() -> dict[str, Any]:
    """JSON schemas of every claim model (as accepted on input), for the OpenAPI components."""
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema(
        [(m, "validation") for m in CLAIM_MODELS.values()], ref_template="#/components/schemas/{model}"
    )
    defs: dict[str, Any] = top.get("$defs", {})
    return defs


_CLAIM_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in CLAIM_MODELS.values()]}
            }
        },
        "required": True,
    }
}

_EXAMPLE_INPATIENT: dict[str, Any] = {
    "scheme": "resident",
    "benefit": "inpatient",
    "date": "2016-03-01",
    "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
    "hospital_level": 3,
    "total": "12000.00",
    "in_scope": "10000.00",
    "class_b": "1000.00",
    "ytd": {"fund_paid": "0.00", "catastrophic_base": "0.00"},
}
_EXAMPLE_GENERAL: dict[str, Any] = {
    "scheme": "resident",
    "benefit": "general_outpatient",
    "date": "2016-05-10",
    "person": {"birth_date": "1955-01-02", "sex": "M", "group": "general"},
    "facility": "community_health_center",
    "total": "120.00",
    "in_scope": "100.00",
    "ytd": {"fund_paid": "0.00", "general_outpatient_paid": "200.00"},
}


class ParamCitation(BaseModel):
    """A parameter a step used, with its source (and ``assumed``, ``overlay``, ``reform``, ``note`` when so)."""

    model_config = ConfigDict(extra="allow")

    path: str = Field(examples=["resident.inpatient.deductible[level3][general]"])
    value: Any = Field(examples=["600.00"])
    unit: str = Field(examples=["CNY"])
    effective_from: str = Field(examples=["2015-10-01"])
    source: str | None = None
    quote: str | None = None
    url: str | None = None
    assumed: bool = False
    overlay: str | None = None
    example: bool = False
    note: str | None = None
    reform: str | None = None


class AssumptionOut(ParamCitation):
    """A value the decision rests on that no source gives: assumed in the pack, or set by an overlay."""

    kind: Literal["assumed", "overlay"]


class StepOut(BaseModel):
    """One step of the explanation."""

    rule: str
    description: str
    amount: str | None
    params: list[ParamCitation]


class RefusalOut(BaseModel):
    """Why nothing is paid."""

    code: str
    message: str
    message_en: str


class ReformOut(BaseModel):
    """A reform whose values the decision used."""

    reform: str
    title: str
    params: list[str]


class DecisionOut(BaseModel):
    """The decision: amounts as yuan strings with two decimals, the steps, the assumptions and reforms used."""

    fund_pay: str = Field(examples=["6020.00"])
    catastrophic_pay: str = Field(examples=["0.00"])
    personal_pay: str = Field(examples=["5980.00"])
    refused: RefusalOut | None
    steps: list[StepOut]
    assumptions: list[AssumptionOut]
    reforms: list[ReformOut] = []
    ytd_after: dict[str, str] = Field(examples=[{"fund_paid": "6510.00"}])


@router.post(
    "/calc",
    response_model=DecisionOut,
    # The same JSON as `yibao calc`: a citation carries only the keys it has (``assumed`` when assumed).
    response_model_exclude_unset=True,
    summary="计算一笔待遇 / Decide one claim",
    openapi_extra={**_CLAIM_BODY, **needs(CALC)},
    responses={422: {"description": "输入错误，指明字段 / bad input, naming the field"}},
)
def calc(
    claim: dict[str, Any] = Body(
        openapi_examples={
            "inpatient": {"summary": "居民住院 / resident inpatient stay", "value": _EXAMPLE_INPATIENT},
            "general_outpatient": {"summary": "普通门诊 / general outpatient", "value": _EXAMPLE_GENERAL},
        },
    ),
) -> dict[str, Any]:
    """Decide one claim (same JSON as `yibao calc`)."""
    return decide_json(claim)
