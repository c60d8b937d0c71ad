"""首页: the person's schemes and statuses, the benefit year against its fund ceiling, the balance, shortcuts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from yibao.core.clock import today
from yibao.core.dates import add_months
from yibao.core.errors import NotFound
from yibao.engine.benefit_year import benefit_year_start
from yibao.people.models import Scheme
from yibao.policy.loader import get_pack
from yibao.policy.model import Citation
from yibao.web.domain import balances, contributions, person_and_records, persons, premiums
from yibao.web.render import page
from yibao.web.routing import act, me, need_login, page_router

router = page_router()


@dataclass(frozen=True, slots=True)
class BenefitYear:
    """This benefit year of the resident scheme and its yearly fund ceiling (from the pack)."""

    start: date
    end: date
    ceiling: int  # fen
    citation: Citation
    contribution_year: int  # whose premium pays for this benefit year
    paid: bool


def benefit_year(session: Session, id_number: str) -> BenefitYear:
    """The benefit year containing today, its ceiling, and whether its contribution is paid."""
    pack = get_pack()
    day = today()
    start = benefit_year_start(day, pack)
    end = benefit_year_start(add_months(start, 12), pack) - timedelta(days=1)
    ceiling = pack.at(day).get("resident.fund_ceiling")
    year = contributions.contribution_year_for(day, pack)
    paid = any(p.year == year for p in premiums.payments_for_insured(session, id_number))
    return BenefitYear(start, end, ceiling.money(), ceiling.citation, year, paid)


def overview(session: Session) -> dict[str, Any]:
    """Everything the home page shows, read as the logged-in person."""
    who = me(session)
    person, records = person_and_records(session, who.login)
    view = persons.person_with_records(session, person, records)
    schemes = {r.scheme for r in records}
    balance = None
    if Scheme.EMPLOYEE.value in schemes:
        try:
            balance = balances.balance(session, who.login)
        except NotFound:
            balance = None  # enrolled, but no money has reached the account yet
    year = benefit_year(session, who.login) if Scheme.RESIDENT.value in schemes else None
    return {"person": view, "balance": balance, "year": year}


@router.get("/")
async def home(request: Request) -> Response:
    """The home page of the logged-in person (anyone else goes to the login page first)."""
    if (go := need_login(request)) is not None:
        return go
    data = await act(request, overview)
    return page(request, "home.html", **data)
