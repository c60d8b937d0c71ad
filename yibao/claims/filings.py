"""Filings made by institutions (2501/2502 off-site referral, 2503/2504 special disease), used by settlement.

A special-disease filing stands for the disease's card (门诊特殊病治疗卡): it names one of the pack's
listed diseases, and a special-disease visit (med_type 14) is settled with the card only on the days
the filing covers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.claims.errors import ClaimRefused, NoVisit
from yibao.claims.models import Filing, FilingKind
from yibao.claims.visits import new_id
from yibao.core import clock
from yibao.core.dates import local_date
from yibao.core.errors import ValidationFailed
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import Person
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

DISEASES = "resident.special_outpatient.diseases"


@dataclass(frozen=True, slots=True)
class FilingIn:
    """A filing as sent: the disease (pack code or name for a special disease), the dates, the rest as given."""

    person: Person
    insutype: str
    diag_code: str
    diag_name: str
    begndate: date
    enddate: date | None = None
    details: dict[str, Any] = field(default_factory=dict)


def special_disease(code_or_name: str, on: date, pack: Pack | None = None) -> tuple[str, str] | None:
    """The pack's (code, name) of a listed special disease given by code or by name, on a day."""
    diseases = (pack or get_pack()).at(on).items(DISEASES)
    for d in diseases:
        if code_or_name in (d.code, d.name):
            return d.code, d.name
    return None


def _check_dates(f: FilingIn, node: str) -> None:
    if f.enddate is not None and f.enddate < f.begndate:
        raise ValidationFailed(f"{node}.enddate", "结束日期早于开始日期", "enddate is before begndate")


def file(
    session: Session, *, institution: Institution, kind: FilingKind, filing: FilingIn, msgid: str, node: str
) -> Filing:
    """Record a filing; a special disease must be one of the pack's listed diseases on its first day."""
    _check_dates(filing, node)
    code, name = filing.diag_code, filing.diag_name
    if kind is FilingKind.SPECIAL_DISEASE:
        found = special_disease(filing.diag_code, filing.begndate) or special_disease(filing.diag_name, filing.begndate)
        if found is None:
            raise ValidationFailed(
                f"{node}.opsp_dise_code",
                f"{filing.diag_code}（{filing.diag_name}）不是规定的门诊特殊病病种",
                "not one of the listed special outpatient diseases",
            )
        code, name = found
        overlapping = session.scalar(
            select(Filing.trt_dcla_detl_sn).where(
                Filing.person_id == filing.person.id,
                Filing.kind == kind.value,
                Filing.diag_code == code,
                Filing.status == "active",
                (Filing.enddate.is_(None)) | (Filing.enddate >= filing.begndate),
            )
        )
        if overlapping is not None:
            raise ClaimRefused(
                f"该参保人已有{name}的门诊特殊病备案（{overlapping}）",
                f"already filed for {code} ({overlapping})",
                code="claims.already_filed",
            )
    now = clock.now()
    row = Filing(
        trt_dcla_detl_sn=new_id(local_date(now)),
        kind=kind.value,
        person_id=filing.person.id,
        institution_code=institution.code,
        insutype=filing.insutype,
        diag_code=code,
        diag_name=name,
        begndate=filing.begndate,
        enddate=filing.enddate,
        details=json.dumps(filing.details, ensure_ascii=False, default=str),
        status="active",
        msgid=msgid,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def cancel(
    session: Session, *, institution: Institution, trt_dcla_detl_sn: str, person: Person, kind: FilingKind, memo: str
) -> Filing:
    """2502 / 2504: cancel a filing this institution made."""
    row = session.scalar(select(Filing).where(Filing.trt_dcla_detl_sn == trt_dcla_detl_sn).with_for_update())
    if row is None or row.institution_code != institution.code or row.person_id != person.id or row.kind != kind.value:
        raise NoVisit(
            f"本机构没有该备案 {trt_dcla_detl_sn}", f"no filing {trt_dcla_detl_sn} here", code="claims.no_filing"
        )
    if row.status != "active":
        raise ClaimRefused(
            f"备案 {trt_dcla_detl_sn} 已撤销", "the filing is already cancelled", code="claims.filing_cancelled"
        )
    row.status = "cancelled"
    row.cancelled_at = clock.now()
    row.cancel_memo = memo
    session.flush()
    return row


def active_on(session: Session, person_id: int, kind: FilingKind, on: date) -> list[Filing]:
    """The person's filings of a kind in force on a day, oldest first."""
    return list(
        session.scalars(
            select(Filing)
            .where(
                Filing.person_id == person_id,
                Filing.kind == kind.value,
                Filing.status == "active",
                Filing.begndate <= on,
                (Filing.enddate.is_(None)) | (Filing.enddate >= on),
            )
            .order_by(Filing.id)
        )
    )


def referral_status(session: Session, person_id: int, on: date) -> str:
    """A sentence saying whether an off-site referral or emergency filing is on record for the day."""
    found = active_on(session, person_id, FilingKind.REFERRAL, on)
    if not found:
        return "未查询到异地转诊或急诊备案，请先办理备案"
    f = found[-1]
    until = f.enddate.isoformat() if f.enddate else "长期"
    return f"已有异地就医备案（备案号 {f.trt_dcla_detl_sn}，{f.begndate.isoformat()} 至 {until}）"
