"""Reversals (冲销): 2208 / 2305 by setl_id, and 2601 of a message whose answer the hospital never got.

A reversal takes back exactly what its settlement did, in one transaction: the ledger's reversal entries
for the account payments, the amounts it added to the accumulators, the link of its fee lines; the
settlement is marked reversed and the visit is open again for corrections. A settlement is reversed
at most once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.claims import fees, payments, visits
from yibao.claims.answers import negated
from yibao.claims.errors import ClaimRefused, NoSettlement, WrongState
from yibao.claims.models import Settlement, SettlementState, Visit, VisitKind
from yibao.claims.settlement import apply, local_iso
from yibao.claims.visits import find_visit
from yibao.core import clock
from yibao.core.errors import ValidationFailed
from yibao.core.money import format_yuan
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import Person


@dataclass(frozen=True, slots=True)
class Reversed:
    """A reversal's answer: the settlement's amounts negated."""

    setlinfo: dict[str, Any]
    setldetail: list[dict[str, Any]]
    settlement: Settlement


def _settlement(session: Session, institution: Institution, setl_id: str, person: Person) -> Settlement:
    row = session.scalar(select(Settlement).where(Settlement.setl_id == setl_id))
    if row is None or row.institution_code != institution.code or row.person_id != person.id:
        raise NoSettlement(f"本机构没有该参保人的结算记录 setl_id={setl_id}", f"no settlement {setl_id} here")
    return row


def reverse(
    session: Session,
    *,
    institution: Institution,
    setl_id: str,
    mdtrt_id: str,
    person: Person,
    msgid: str,
    kind: VisitKind,
) -> Reversed:
    """2208 / 2305: reverse a settlement of this institution."""
    row = _settlement(session, institution, setl_id, person)
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    if row.visit_id != visit.id:
        raise ValidationFailed(
            "data.mdtrt_id", f"结算 {setl_id} 不属于就诊 {mdtrt_id}", "the settlement is another visit's"
        )
    if visit.kind != kind.value:
        raise ClaimRefused(
            "门诊结算用 2208 冲销，住院结算用 2305 冲销",
            "use 2208 for outpatient, 2305 for inpatient",
            code="claims.wrong_kind",
        )
    return _reverse(session, row, visit, msgid)


def _reverse(session: Session, row: Settlement, visit: Visit, msgid: str) -> Reversed:
    # Lock the settlement (the visit is locked already): two reversals of one settlement take turns.
    session.refresh(row, with_for_update=True)
    if row.state != SettlementState.SETTLED.value:
        raise WrongState(
            f"结算 {row.setl_id} 已于 {local_iso(row.reversed_at or clock.now())} 冲销，不能重复冲销",
            f"settlement {row.setl_id} is already reversed",
            code="claims.already_reversed",
        )
    now = clock.now()
    apply(session, row, sign=-1)
    payments.refund(session, entry_ids=(row.acct_entry_id, row.mulaid_entry_id), setl_id=row.setl_id)
    fees.unlink(session, row.id)
    row.state = SettlementState.REVERSED.value
    row.reversed_at = now
    row.reversal_msgid = msgid
    visits.reopen(visit)
    info, detail = negated(json.loads(row.setlinfo), json.loads(row.setldetail))
    info["setl_time"] = local_iso(now)
    info["medins_setl_id"] = msgid
    info["balc"] = format_yuan(payments.balance_of(session, row.person_id))
    session.flush()
    return Reversed(info, detail, row)


REVERSIBLE = {"2207": "门诊结算", "2304": "住院结算", "2401": "入院办理"}


def reverse_message(
    session: Session, *, institution: Institution, person: Person, omsgid: str, oinfno: str, msgid: str
) -> None:
    """2601: reverse what the message ``omsgid`` did (a 2207 or 2304 settlement, a 2401 admission)."""
    if oinfno not in REVERSIBLE:
        raise ValidationFailed(
            "data.oinfno", "只能冲正 2207、2304、2401 交易", "only 2207, 2304 and 2401 can be reversed"
        )
    if oinfno == "2401":
        if visits.cancel_opened(session, institution=institution, msgid=omsgid, person=person) is None:
            raise _nothing(omsgid, oinfno)
        return
    row = session.scalar(
        select(Settlement).where(Settlement.institution_code == institution.code, Settlement.msgid == omsgid)
    )
    if row is None or row.person_id != person.id:
        raise _nothing(omsgid, oinfno)
    visit = session.get(Visit, row.visit_id)
    assert visit is not None
    visit = find_visit(session, institution=institution, mdtrt_id=visit.mdtrt_id, person=person, lock=True)
    expected = VisitKind.OUTPATIENT if oinfno == "2207" else VisitKind.INPATIENT
    if visit.kind != expected.value:
        raise _nothing(omsgid, oinfno)
    _reverse(session, row, visit, msgid)


def _nothing(omsgid: str, oinfno: str) -> ClaimRefused:
    return ClaimRefused(
        f"未找到本机构该参保人 omsgid={omsgid} 的{REVERSIBLE[oinfno]}交易（原交易未生效，无需冲正）",
        f"no {oinfno} message {omsgid} took effect here",
        code="claims.nothing_to_reverse",
    )
