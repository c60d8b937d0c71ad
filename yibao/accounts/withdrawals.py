"""Withdrawing the balance in the special cases (seed 000: settling abroad, death, settled abroad before
retirement, a new region that will not take the balance, giving up employee insurance): the application
with the documents its case needs, and the agency's decision, which pays out and closes the account.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.access import DECIDE, MANAGE, UseRefused, allow, codes, counter_clerk, employee
from yibao.accounts.models import (
    AccountStatus,
    EntryKind,
    Hold,
    HoldStatus,
    LedgerAccount,
    Purpose,
    WithdrawalRequest,
    WithdrawalStatus,
)
from yibao.accounts.schemas import WithdrawalDecisionOut, WithdrawalOut
from yibao.core import clock
from yibao.core.dates import local_date
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.core.money import format_yuan
from yibao.people import persons
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack


def apply_withdrawal(
    session: Session,
    *,
    holder_id_number: str,
    case: str,
    documents: list[str],
    heir_id_number: str | None = None,
    pack: Pack | None = None,
) -> WithdrawalOut:
    """Apply to withdraw the balance in one of the special cases, with the documents it needs."""
    view = (pack or get_pack()).at(local_date(clock.now()))
    if case not in codes(view, "employee.account.withdrawal_cases"):
        raise UseRefused(
            "个人账户余额通常不可提现，仅出国定居、死亡继承等特殊情形可申请",
            "withdrawal only in the special cases",
            code="accounts.no_withdrawal_case",
        )
    needed = codes(view, f"employee.account.withdrawal_documents.{case}").values()
    missing = [d for d in needed if d not in documents]
    if missing:
        raise ValidationFailed(
            "documents", f"缺少材料：{'、'.join(missing)}", f"missing documents: {', '.join(missing)}"
        )
    holder, _ = employee(session, holder_id_number, MANAGE, op="withdrawal", case=case)
    heir_id = None
    if case == "death":
        if not heir_id_number:
            raise ValidationFailed("heir_id_number", "死亡继承须指定合法继承人", "an heir is required")
        heir_id = persons.get_person(session, heir_id_number).id
    elif heir_id_number:
        # An heir takes the balance only after a death; in any other case the holder does.
        raise ValidationFailed(
            "heir_id_number", "只有参保人去世后的继承须指定继承人", "an heir is named only when the holder has died"
        )
    pending = session.scalar(
        select(WithdrawalRequest.id).where(
            WithdrawalRequest.holder_id == holder.id, WithdrawalRequest.status == WithdrawalStatus.PENDING
        )
    )
    if pending is not None:
        raise Conflict(
            "已有待审核的提取申请", "a withdrawal application is already pending", code="accounts.withdrawal_pending"
        )
    req = WithdrawalRequest(
        holder_id=holder.id,
        case=case,
        documents=json.dumps(documents, ensure_ascii=False),
        status=WithdrawalStatus.PENDING,
        heir_id=heir_id,
        applied_at=clock.now(),
    )
    session.add(req)
    session.flush()
    return WithdrawalOut(request_id=req.id, status=req.status)


def decide_withdrawal(
    session: Session, *, request_id: int, approve: bool, clerk: str, note: str
) -> WithdrawalDecisionOut:
    """The agency's decision: approved, the balance is paid out (or to the heir's account) and the account closed."""
    req = session.get(WithdrawalRequest, request_id)
    if req is None:
        raise NotFound("没有该提取申请", "no such withdrawal application", code="accounts.no_withdrawal")
    allow(session, DECIDE, req.holder_id, request_id=request_id, approve=approve)
    clerk = counter_clerk(session, clerk) or clerk
    if req.status != WithdrawalStatus.PENDING:
        raise Conflict("该申请不在待审核状态", "the application is not pending", code="accounts.withdrawal_not_pending")
    req.status = WithdrawalStatus.APPROVED if approve else WithdrawalStatus.REJECTED
    req.decided_by, req.decision_note, req.decided_at = clerk, note, clock.now()
    if approve:
        _pay_out(session, req)
    session.flush()
    return WithdrawalDecisionOut(request_id=req.id, status=req.status, amount=format_yuan(req.amount or 0))


def _pay_out(session: Session, req: WithdrawalRequest) -> None:
    """Move the whole balance out (to the heir's account after a death, if they have one) and close the account."""
    acc = ledger.member_account(session, req.holder_id)
    held = session.scalar(
        select(func.count()).select_from(Hold).where(Hold.member_id == req.holder_id, Hold.status == HoldStatus.HELD)
    )
    if held:
        # A held amount would come back to a closed account if it were voided later.
        raise Conflict(
            "该账户有未结算的预扣，请先结算或撤销后再审批提取",
            "the account has pending holds: post or void them before approving the withdrawal",
            code="accounts.holds_pending",
        )
    session.refresh(acc)
    amount = acc.balance
    if amount:
        heir_acc = None
        if req.heir_id is not None:
            heir_acc = session.scalar(
                select(LedgerAccount).where(
                    LedgerAccount.purpose == Purpose.MEMBER, LedgerAccount.owner_id == req.heir_id
                )
            )
        ledger.transfer(
            session,
            kind=EntryKind.WITHDRAWAL,
            source=acc,
            target=heir_acc or ledger.system_account(session, Purpose.WITHDRAWALS, req.holder_id),
            amount=amount,
            member_id=req.holder_id,
            category=req.case,
            beneficiary_id=req.heir_id,
            reference=f"withdrawal {req.id}",
        )
    req.amount = amount
    acc.status = AccountStatus.CLOSED
