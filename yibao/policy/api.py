"""``/api/policy``: the policy parameters, their values on a date and their sources."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from yibao.core import clock
from yibao.core.auth import needs, public_rule
from yibao.policy import service
from yibao.policy.schemas import ParameterDetailOut, ParameterOut

router = APIRouter(prefix="/api/policy", tags=["policy"])

READ_PARAMETERS = public_rule("policy.read", "政策参数 / policy parameters")


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
