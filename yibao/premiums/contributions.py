"""Contribution years (缴费年度): the standard amount and collection period from the pack, and the rule
that benefits need the benefit year's contribution paid (policy.md: "Ages and who has benefits")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yibao.core import auth
from yibao.core.errors import AppError, NotFound
from yibao.core.money import format_yuan
from yibao.people.models import InsuranceRecord, Person, Scheme, Status
from yibao.policy.loader import get_pack
from yibao.policy.model import Citation, Pack
from yibao.policy.schemas import CitationOut
from yibao.premiums.models import PremiumPayment
from yibao.premiums.schemas import ContributionYearOut

YEARS = auth.public_rule("premiums.years", "年度缴费标准与缴费期 / contribution years")


@dataclass(frozen=True, slots=True)
class ContributionYear:
    """The standard amount and the collection period of one contribution year."""

    year: int
    amount: int  # fen
    opens: date
    closes: date
    amount_citation: Citation
    period_citation: Citation


def contribution_year(year: int, pack: Pack | None = None) -> ContributionYear:
    """The contribution year's standard (from the policy pack), or NotFound when the pack has none."""
    pack = pack or get_pack()
    start = date(year, 1, 1)
    view = pack.at(start)
    if not view.has("resident.premium.individual"):
        raise NotFound(f"没有 {year} 年度的缴费标准", f"no contribution standard for {year}", code="premium.no_year")
    # Values are keyed by the first day of their contribution year: a value from an earlier year is
    # not this year's standard.
    amount = view.get("resident.premium.individual")
    opens = view.get("resident.premium.collection_opens")
    closes = view.get("resident.premium.collection_closes")
    if amount.start != start or opens.start != start:
        raise NotFound(f"没有 {year} 年度的缴费标准", f"no contribution standard for {year}", code="premium.no_year")
    return ContributionYear(year, amount.money(), opens.day(), closes.day(), amount.citation, opens.citation)


def describe_year(year: int, pack: Pack | None = None) -> ContributionYearOut:
    """A contribution year as payers see it: the amount in yuan, the period, and where both come from."""
    y = contribution_year(year, pack)
    return ContributionYearOut(
        year=y.year,
        amount=format_yuan(y.amount),
        collection_opens=y.opens.isoformat(),
        collection_closes=y.closes.isoformat(),
        # From the citation's own JSON form: a source shows the keys it has (``assumed`` only when assumed).
        amount_source=CitationOut.model_validate(y.amount_citation.to_dict()),
        period_source=CitationOut.model_validate(y.period_citation.to_dict()),
    )


class ContributionUnpaid(AppError):
    """A benefit refused because the person has not paid the contribution of the benefit year."""

    code = "benefit.contribution_unpaid"
    http_status = 422
    exit_code = 5


def contribution_year_for(day: date, pack: Pack | None = None) -> int:
    """The contribution year that pays for the resident benefit year containing ``day``.

    A benefit year is named after the calendar year in which a full year from its first day ends: the
    2022 contribution, collected in autumn 2021, covers 2021-10-01..2022-09-30 (seed 003: 参保缴费后自本年
    10月1日至次年9月30日); the short year 2022-10-01..2022-12-31 and then calendar 2023 are the 2023
    contribution's (a reading, noted in resident.contribution_required).
    """
    from yibao.engine.benefit_year import benefit_year_start

    start = benefit_year_start(day, pack or get_pack())
    return start.year if start.month == 1 else start.year + 1


# Built once: every resident's settlement asks it.
_PAID = (
    select(PremiumPayment.id)
    .where(
        PremiumPayment.insured_id == bindparam("insured_id"),
        PremiumPayment.scheme == bindparam("scheme"),
        PremiumPayment.year == bindparam("year"),
    )
    .limit(1)
)


def require_paid_contribution(
    session: Session,
    person: Person,
    scheme: Scheme,
    date_of_service: date,
    *,
    pack: Pack | None = None,
    record: InsuranceRecord | None = None,
) -> int:
    """Refuse a benefit for a person without a paid contribution for the benefit year; returns that year.

    Whatever decides a real person's claim (settlement, casework) calls this first (README: the calculator).
    ``record``: the person's record in ``scheme`` when the caller has it already (it is not read again).
    """
    pack = pack or get_pack()
    view = pack.at(date_of_service)
    if scheme is Scheme.EMPLOYEE:
        view.get("employee.contribution_paid")  # the (assumed) rule must be in force on that day
        year = date_of_service.year
        if record is None or record.person_id != person.id or record.scheme != Scheme.EMPLOYEE:
            record = session.scalar(
                select(InsuranceRecord).where(
                    InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == Scheme.EMPLOYEE
                )
            )
        if record is not None and record.status == Status.NORMAL and record.benefits_from <= date_of_service:
            return year
    else:
        view.get("resident.contribution_required")
        year = contribution_year_for(date_of_service, pack)
        paid = session.scalar(_PAID, {"insured_id": person.id, "scheme": scheme, "year": year})
        if paid is not None:
            return year
    label = "职工医保" if scheme is Scheme.EMPLOYEE else "城乡居民医保"
    raise ContributionUnpaid(
        f"未缴纳 {year} 年度{label}费用（服务日期 {date_of_service}），不能享受待遇",
        f"no paid {scheme.value} contribution for the {year} benefit year (date of service {date_of_service})",
        details={"year": year, "scheme": scheme.value, "date_of_service": date_of_service.isoformat()},
    )
