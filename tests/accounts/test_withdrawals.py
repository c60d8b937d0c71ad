"""Withdrawals in the special cases on SQLite and PostgreSQL: documents from the pack, the decision, the closed account."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.accounts.factories import (
    apply_withdrawal,
    balance,
    create_employee,
    documents,
    fund,
    items,
    pack_with,
    pay,
)
from yibao.accounts import balances, ledger, withdrawals
from yibao.accounts.access import UseRefused
from yibao.accounts.models import AccountStatus, WithdrawalStatus
from yibao.accounts.schemas import WithdrawalDecisionOut, WithdrawalOut
from yibao.core.clock import today
from yibao.core.errors import Conflict, ValidationFailed
from yibao.people import persons
from yibao.policy.loader import get_pack


def _apply(session: Session, holder: str, case: str, docs: list[str], **kw: object) -> WithdrawalOut:
    return withdrawals.apply_withdrawal(session, holder_id_number=holder, case=case, documents=docs, **kw)  # type: ignore[arg-type]


def _decide(session: Session, request_id: int, approve: bool = True) -> WithdrawalDecisionOut:
    return withdrawals.decide_withdrawal(
        session, request_id=request_id, approve=approve, clerk="经办002", note="材料齐全"
    )


def test_every_case_names_its_documents() -> None:
    view = get_pack().at(today())
    for case in (i.code for i in view.get("employee.account.withdrawal_cases").value):
        assert view.get(f"employee.account.withdrawal_documents.{case}").value, case
    # Seed 000 names the heir's documents: 死亡证明、继承关系证明.
    assert documents("death") == ["死亡证明", "继承关系证明"]


def test_withdrawal_cases(session: Session) -> None:
    holder = create_employee(session, funded=80_000)
    with pytest.raises(UseRefused) as err:
        _apply(session, holder, "buy_a_car", [])
    assert err.value.code == "accounts.no_withdrawal_case"
    with pytest.raises(ValidationFailed) as vf:
        _apply(session, holder, "settle_abroad", ["身份证"])
    assert vf.value.field == "documents" and "出国定居证明" in vf.value.message_zh
    with pytest.raises(ValidationFailed) as vf:
        _apply(session, holder, "settle_abroad", ["身份证", "出国定居证明"], heir_id_number=holder)
    assert vf.value.field == "heir_id_number"  # an heir only after a death
    req = _apply(session, holder, "settle_abroad", ["身份证", "出国定居证明"])
    assert req.status is WithdrawalStatus.PENDING
    with pytest.raises(Conflict) as err:
        apply_withdrawal(session, holder)
    assert err.value.code == "accounts.withdrawal_pending"
    done = _decide(session, req.request_id)
    assert (done.request_id, done.status, done.amount) == (req.request_id, WithdrawalStatus.APPROVED, "800.00")
    assert balances.balance(session, holder).status is AccountStatus.CLOSED and balance(session, holder) == "0.00"
    # The account is closed: nothing more can be paid from it, nor flow into it.
    with pytest.raises(ledger.AccountClosed):
        pay(session, holder, 1)
    with pytest.raises(ledger.AccountClosed):
        fund(session, holder, 100, period="2023-06")
    with pytest.raises(Conflict) as err:
        _decide(session, req.request_id)
    assert err.value.code == "accounts.withdrawal_not_pending"


def test_documents_come_from_the_pack(session: Session) -> None:
    holder = create_employee(session, funded=10_000)
    id_card_only = pack_with("employee.account.withdrawal_documents.settle_abroad", items(("id_card", "身份证")))
    req = _apply(session, holder, "settle_abroad", ["身份证"], pack=id_card_only)
    assert req.status is WithdrawalStatus.PENDING


def test_a_rejected_application_moves_nothing(session: Session) -> None:
    holder = create_employee(session, funded=10_000)
    req = apply_withdrawal(session, holder, "give_up")
    done = _decide(session, req.request_id, approve=False)
    assert (done.status, done.amount) == (WithdrawalStatus.REJECTED, "0.00")
    assert balances.balance(session, holder).status is AccountStatus.OPEN and balance(session, holder) == "100.00"
    assert apply_withdrawal(session, holder, "give_up").status is WithdrawalStatus.PENDING  # may apply again


def test_withdrawal_waits_for_pending_holds(session: Session) -> None:
    holder = create_employee(session, funded=50_000)
    h = ledger.hold(session, member_id=persons.get_person(session, holder).id, amount=10_000)
    req = apply_withdrawal(session, holder)
    with pytest.raises(Conflict) as err, session.begin_nested():
        _decide(session, req.request_id)
    assert err.value.code == "accounts.holds_pending"
    ledger.post_hold(session, h.id)
    assert _decide(session, req.request_id).amount == "400.00"


def test_death_pays_the_heir(session: Session) -> None:
    holder = create_employee(session, funded=60_000, name="逝者")
    heir = create_employee(session, name="继承人")
    with pytest.raises(ValidationFailed) as err:
        apply_withdrawal(session, holder, "death")
    assert err.value.field == "heir_id_number"
    req = apply_withdrawal(session, holder, "death", heir=heir)
    assert _decide(session, req.request_id).amount == "600.00"
    assert balance(session, heir) == "600.00"
