"""Reconciliation of totals (3201 对总账): the institution's figures for a period against yibao's.

A period covers the settlements whose ``setl_time`` falls in it (China dates, both ends included). Totals
are net: a settlement and its reversal in the same period cancel; a reversal in a later period counts there,
negated. ``fixmedins_setl_cnt`` counts the settlements of the period that are not reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from yibao.claims.models import Settlement, SettlementState
from yibao.core.dates import day_after, day_start
from yibao.core.errors import ValidationFailed
from yibao.core.money import format_yuan
from yibao.institutions.models import InstitutionView as Institution


@dataclass(frozen=True, slots=True)
class Totals:
    """A period's net totals (fen) and its count of standing settlements."""

    medfee: int = 0
    fund: int = 0
    acct: int = 0
    count: int = 0


@dataclass(frozen=True, slots=True)
class Period:
    """What a 3201 asks about: the insutype, clearing type, clearing agency and the dates."""

    insutype: str
    clr_type: str
    setl_optins: str
    begin: date
    end: date


def totals(session: Session, institution: Institution, p: Period) -> Totals:
    """yibao's net totals of the institution's settlements in the period."""
    if p.end < p.begin:
        raise ValidationFailed("data.stmt_enddate", "对账结束日期早于开始日期", "stmt_enddate is before stmt_begndate")
    start, stop = day_start(p.begin), day_after(p.end)
    mine = and_(
        Settlement.institution_code == institution.code,
        Settlement.insutype == p.insutype,
        Settlement.clr_type == p.clr_type,
        Settlement.clr_optins == p.setl_optins,
    )

    def within(column: Any) -> ColumnElement[bool]:
        after: ColumnElement[bool] = column >= start
        return and_(after, column < stop) if stop is not None else after

    medfee = fund = acct = count = 0
    for s in session.scalars(select(Settlement).where(mine, within(Settlement.setl_time))):
        medfee, fund, acct = medfee + s.medfee_sumamt, fund + s.fund_pay_sumamt, acct + s.acct_pay
        count += s.state == SettlementState.SETTLED.value
    for s in session.scalars(select(Settlement).where(mine, within(Settlement.reversed_at))):
        medfee, fund, acct = medfee - s.medfee_sumamt, fund - s.fund_pay_sumamt, acct - s.acct_pay
    return Totals(medfee, fund, acct, count)


def compare(ours: Totals, theirs: Totals) -> tuple[str, str]:
    """``stmt_rslt`` (0 agree, 1 differ) and a description naming each figure that differs."""
    names = (
        ("medfee", "医疗费总额", True),
        ("fund", "基金支付总额", True),
        ("acct", "个人账户支付总额", True),
        ("count", "结算笔数", False),
    )
    differ = []
    for attr, zh, money in names:
        a, b = getattr(theirs, attr), getattr(ours, attr)
        if a != b:
            show = format_yuan if money else str
            differ.append(f"{zh}不一致：机构 {show(a)}，医保 {show(b)}")
    if not differ:
        return "0", "对账一致"
    return "1", "；".join(differ)
