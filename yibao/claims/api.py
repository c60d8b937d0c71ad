"""``/api/settlements`` and a person's settlements (thin: parse, call, render)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.claims import views
from yibao.claims.schemas import SettlementList, SettlementOut
from yibao.core.auth import needs

router = APIRouter(tags=["claims"], route_class=UnitOfWorkRoute)


@router.get(
    "/api/settlements/{setl_id}",
    response_model=SettlementOut,
    summary="结算单及其计算依据 / a settlement and its explanation",
    openapi_extra=needs(views.READ),
)
def show(setl_id: str, session: Session = Depends(get_session)) -> SettlementOut:
    """The settlement as answered to the hospital, its diagnoses (masked) and the policy steps it applied."""
    return views.show(session, setl_id)


@router.get(
    "/api/people/{id_number}/settlements",
    response_model=SettlementList,
    summary="参保人的结算记录 / a person's settlements",
    openapi_extra=needs(views.LIST),
)
def list_for(id_number: str, session: Session = Depends(get_session)) -> SettlementList:
    """The person's settlements, newest first."""
    return views.list_for(session, id_number)
