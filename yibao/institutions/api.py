"""``/api/institutions``: designated institutions for agency staff (thin: parse, call one service function, render)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core.auth import needs
from yibao.institutions import service
from yibao.institutions.schemas import (
    CredentialsOut,
    EndIn,
    InstitutionIn,
    InstitutionOut,
    SuspendIn,
    institution_out,
)

router = APIRouter(prefix="/api/institutions", tags=["institutions"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    response_model=CredentialsOut,
    status_code=201,
    summary="登记定点医药机构 / register an institution",
    openapi_extra=needs(service.MANAGE),
)
def add(body: InstitutionIn, session: Session = Depends(get_session)) -> CredentialsOut:
    """Register an institution; its paasid and secret are shown only in this answer."""
    row, secret = service.add(session, **body.model_dump())
    return CredentialsOut(code=row.code, paasid=row.paasid, secret=secret)


@router.get(
    "",
    response_model=list[InstitutionOut],
    summary="定点医药机构列表 / list institutions",
    openapi_extra=needs(service.READ),
)
def list_institutions(
    region: str | None = Query(default=None, min_length=6, max_length=6),
    kind: Literal["hospital", "community_health_center", "pharmacy"] | None = None,
    session: Session = Depends(get_session),
) -> list[InstitutionOut]:
    """Institutions of a region (default: the caller's)."""
    return [institution_out(r) for r in service.list(session, region=region, kind=kind)]


@router.get(
    "/{code}",
    response_model=InstitutionOut,
    summary="查询定点医药机构 / one institution",
    openapi_extra=needs(service.READ),
)
def show(code: str, session: Session = Depends(get_session)) -> InstitutionOut:
    """One institution."""
    return institution_out(service.show(session, code))


@router.post(
    "/{code}/secret",
    response_model=CredentialsOut,
    summary="重置接入密钥 / rotate the secret",
    openapi_extra=needs(service.MANAGE),
)
def rotate_secret(code: str, session: Session = Depends(get_session)) -> CredentialsOut:
    """A new secret (the old one stops working at once), shown only in this answer."""
    row, secret = service.rotate_secret(session, code)
    return CredentialsOut(code=row.code, paasid=row.paasid, secret=secret)


@router.post(
    "/{code}/end-designation",
    response_model=InstitutionOut,
    summary="终止定点 / end the designation",
    openapi_extra=needs(service.MANAGE),
)
def end_designation(code: str, body: EndIn, session: Session = Depends(get_session)) -> InstitutionOut:
    """End the designation on a day (default today)."""
    return institution_out(service.end_designation(session, code, on=body.on))


@router.post(
    "/{code}/suspend",
    response_model=InstitutionOut,
    summary="暂停医保服务 / suspend",
    openapi_extra=needs(service.MANAGE),
)
def suspend(code: str, body: SuspendIn, session: Session = Depends(get_session)) -> InstitutionOut:
    """Suspend the institution's service (messages and API keys refused)."""
    return institution_out(service.suspend(session, code, reason=body.reason))


@router.post(
    "/{code}/reinstate",
    response_model=InstitutionOut,
    summary="恢复医保服务 / reinstate",
    openapi_extra=needs(service.MANAGE),
)
def reinstate(code: str, session: Session = Depends(get_session)) -> InstitutionOut:
    """Lift a suspension."""
    return institution_out(service.reinstate(session, code))
