"""``/api/catalogue``: the medical catalogue, paged as transaction 1312 pages it (thin: parse, call, render)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.catalogue import service
from yibao.catalogue.models import ChargeClass, ListType
from yibao.catalogue.schemas import CatalogueItemOut, CataloguePage, item_out
from yibao.core.auth import needs
from yibao.core.clock import today

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"], route_class=UnitOfWorkRoute)


@router.get(
    "",
    response_model=CataloguePage,
    summary="查询医保目录（分页）/ a page of the catalogue",
    openapi_extra=needs(service.READ),
)
def list_items(
    on: date | None = Query(default=None, alias="date", description="某日有效的版本，默认全部 / in force that day"),
    code: str | None = Query(default=None, max_length=50, description="医保目录编码 / one code"),
    updated_since: datetime | None = Query(default=None, description="更新时间起（无时区按北京时间）/ written since"),
    list_type: ListType | None = Query(default=None, description="目录类别 / list type"),
    chrgitm_lv: ChargeClass | None = Query(default=None, description="收费项目等级 / class"),
    page: int = Query(default=1, ge=1, le=service.PAGE_MAX),
    size: int = Query(default=100, ge=1, le=service.PAGE_SIZE_MAX),
    session: Session = Depends(get_session),
) -> CataloguePage:
    """Catalogue versions ordered by code and begin date, with 1312's paging fields."""
    return service.query(
        session,
        on=on,
        code=code,
        updated_since=updated_since,
        page=page,
        size=size,
        list_type=list_type,
        chrgitm_lv=chrgitm_lv,
    )


@router.get(
    "/{code}",
    response_model=CatalogueItemOut,
    summary="目录条目 / a catalogue item on a day",
    openapi_extra=needs(service.READ),
)
def get_item(
    code: str,
    on: date | None = Query(default=None, alias="date", description="日期，默认今天 / date, default today"),
    session: Session = Depends(get_session),
) -> CatalogueItemOut:
    """The version of a code in force on a day, with every version of the code."""
    item, versions = service.show_item(session, code=code, on=on or today())
    return item_out(item, versions)
