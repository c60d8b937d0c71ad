"""``/api/policy``: the policy parameters, their values on a date and their sources."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from yibao.core import clock
from yibao.core.auth import needs, public_rule
from yibao.policy import service

router = APIRouter(prefix="/api/policy", tags=["policy"])

READ_PARAMETERS = public_rule("policy.read", "政策参数 / policy parameters")


class CitationOut(BaseModel):
    """Where a value comes from."""

    source: str | None = Field(examples=["003_df4229da7f582ad6.txt"])
    quote: str | None = Field(examples=["由2022年的320元提高到2023年的350元"])
    url: str | None = None
    assumed: bool = False
    overlay: str | None = None
    example: bool = False
    note: str | None = None


class HistoryOut(CitationOut):
    """One dated value."""

    from_: str = Field(alias="from", examples=["2023-01-01"])
    value: Any


class ParameterOut(BaseModel):
    """A parameter's value on the asked date."""

    path: str = Field(examples=["resident.premium.individual"])
    description: str = Field(examples=["城乡居民基本医疗保险个人缴费标准（按缴费年度）"])
    unit: str = Field(examples=["CNY"])
    kind: str = Field(examples=["scalar"])
    date: str = Field(examples=["2023-06-01"])
    value: Any = Field(examples=["350.00"])
    effective_from: str | None = Field(examples=["2023-01-01"])
    citation: CitationOut | None
    note: str | None = None
    overlay_slot: bool = False


class ParameterDetailOut(ParameterOut):
    """A parameter with its whole history."""

    history: list[HistoryOut]


@router.get(
    "/parameters",
    response_model=list[ParameterOut],
    summary="全部政策参数 / all parameters",
    openapi_extra=needs(READ_PARAMETERS),
)
def list_parameters(
    on: date | None = Query(default=None, alias="date", description="日期，默认今天 / date, default today"),
    prefix: str = Query(default="", description="路径前缀，如 resident.inpatient / dotted prefix"),
) -> list[dict[str, Any]]:
    """Every parameter with its value on the date."""
    return service.list_parameters(on or clock.today(), prefix=prefix)


@router.get(
    "/parameters/{path}",
    response_model=ParameterDetailOut,
    summary="一个政策参数 / one parameter",
    responses={404: {"description": "没有该参数 / no such parameter"}},
    openapi_extra=needs(READ_PARAMETERS),
)
def get_parameter(
    path: str, on: date | None = Query(default=None, alias="date", description="日期 / date")
) -> dict[str, Any]:
    """One parameter: value on the date, its history and sources."""
    return service.show_parameter(path, on or clock.today())
