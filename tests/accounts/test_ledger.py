"""The ledger core on SQLite and PostgreSQL: balanced entries, guarded debits, reversals, holds, keys."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests.factories import create_resident
from yibao.accounts import ledger
from yibao.accounts.models import EntryKind, Purpose
from yibao.accounts.schemas import EntryOut
from yibao.core.auth import system_principal
from yibao.core.errors import Conflict, NotFound
from yibao.core.unit import unit_of_work
from yibao.people.persons import get_person


def _member(session: Session, funded: int = 0) -> int:
    pid = get_person(session, create_resident(session, on=date(2022, 9, 1))).id
    acc = ledger.member_account(session, pid, create=True)
    if funded:
        ledger.transfer(
            session,
            kind=EntryKind.CREDIT,
            source=ledger.system_account(session, Purpose.CONTRIBUTIONS, pid),
            target=acc,
            amount=funded,
            member_id=pid,
            reference="2023-01",
        )
    return pid


def _balance(session: Session, pid: int) -> int:
    acc = ledger.member_account(session, pid)
    session.refresh(acc)
    return acc.balance


def test_credit_and_pay_keep_the_books_balanced(session: Session) -> None:
    pid = _member(session, 100_000)
    ledger.transfer(
        session,
        kind=EntryKind.PAYMENT,
        source=ledger.member_account(session, pid),
        target=ledger.system_account(session, Purpose.SETTLEMENTS, pid),
        amount=30_000,
        member_id=pid,
        category="designated_pharmacy",
    )
    assert _balance(session, pid) == 70_000
    v = ledger.verify(session)
    assert v.ok, v.problems
    assert v.total == 0


def test_overdraft_is_refused_and_nothing_moves(session: Session) -> None:
    pid = _member(session, 5_000)
    with pytest.raises(ledger.InsufficientBalance):
        ledger.transfer(
            session,
            kind=EntryKind.PAYMENT,
            source=ledger.member_account(session, pid),
            target=ledger.system_account(session, Purpose.SETTLEMENTS, pid),
            amount=5_001,
            member_id=pid,
        )
    assert _balance(session, pid) == 5_000
    assert ledger.verify(session).ok


def test_reversal_once_and_never_of_a_reversal(session: Session) -> None:
    pid = _member(session, 10_000)
    entry = ledger.transfer(
        session,
        kind=EntryKind.PAYMENT,
        source=ledger.member_account(session, pid),
        target=ledger.system_account(session, Purpose.SETTLEMENTS, pid),
        amount=4_000,
        member_id=pid,
    )
    rev = ledger.reverse(session, entry.id, reason="退费")
    assert _balance(session, pid) == 10_000
    with pytest.raises(Conflict):
        ledger.reverse(session, entry.id, reason="again")
    with pytest.raises(Conflict):
        ledger.reverse(session, rev.id, reason="reverse the reversal")
    assert ledger.verify(session).ok


def test_hold_post_void_exactly_once(session: Session) -> None:
    pid = _member(session, 10_000)
    h = ledger.hold(session, member_id=pid, amount=6_000, reference="预结算")
    assert _balance(session, pid) == 4_000
    ledger.post_hold(session, h.id)
    with pytest.raises(Conflict):
        ledger.void_hold(session, h.id)
    h2 = ledger.hold(session, member_id=pid, amount=4_000)
    ledger.void_hold(session, h2.id)
    with pytest.raises(Conflict):
        ledger.post_hold(session, h2.id)
    assert _balance(session, pid) == 4_000
    assert ledger.verify(session).ok


def test_idempotent_requests(session: Session) -> None:
    pid = _member(session, 10_000)
    calls = []

    def pay() -> EntryOut:
        calls.append(1)
        e = ledger.transfer(
            session,
            kind=EntryKind.PAYMENT,
            source=ledger.member_account(session, pid),
            target=ledger.system_account(session, Purpose.SETTLEMENTS, pid),
            amount=1_000,
            member_id=pid,
        )
        return ledger.entry_view(e.id, e.kind, e.category, -1_000, e.reference, e.created_at)

    body = {"member": pid, "amount": 1000}
    first = ledger.idempotent(session, source="hospital-A", key="k1", body=body, run=pay)
    again = ledger.idempotent(session, source="hospital-A", key="k1", body=body, run=pay)
    assert first == again and len(calls) == 1 and _balance(session, pid) == 9_000
    assert (first.kind, first.amount) == (EntryKind.PAYMENT, "-10.00")
    with pytest.raises(Conflict):
        ledger.idempotent(session, source="hospital-A", key="k1", body={**body, "amount": 2000}, run=pay)
    ledger.idempotent(session, source="hospital-B", key="k1", body=body, run=pay)  # keys are per source
    assert _balance(session, pid) == 8_000


def test_journal_is_append_only(session: Session) -> None:
    pid = _member(session, 1_000)
    assert pid
    with pytest.raises((DBAPIError, IntegrityError)), session.begin_nested():
        session.execute(text("UPDATE journal_lines SET amount = amount + 1"))
    with pytest.raises((DBAPIError, IntegrityError)), session.begin_nested():
        session.execute(text("DELETE FROM journal_entries"))


def test_many_threads_paying_from_one_account_never_overdraw(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        pid = _member(s, 10_000)

    def pay(_: int) -> bool:
        try:
            with unit_of_work(engine, principal=system_principal()) as s:
                ledger.transfer(
                    s,
                    kind=EntryKind.PAYMENT,
                    source=ledger.member_account(s, pid),
                    target=ledger.system_account(s, Purpose.SETTLEMENTS, pid),
                    amount=700,
                    member_id=pid,
                )
            return True
        except ledger.InsufficientBalance:
            return False

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(pay, range(30)))
    assert sum(outcomes) == 14  # 14 x 7.00 = 98.00 fits in 100.00, the 15th would overdraw
    with unit_of_work(engine, principal=system_principal()) as s:
        assert _balance(s, pid) == 10_000 - 14 * 700
        v = ledger.verify(s)
        assert v.ok, v.problems


def test_many_accounts_in_parallel_and_colliding_keys(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        pids = [_member(s, 50_000) for _ in range(6)]

    def pay(i: int) -> str:
        pid = pids[i % len(pids)]
        with unit_of_work(engine, principal=system_principal()) as s:

            def run() -> EntryOut:
                e = ledger.transfer(
                    s,
                    kind=EntryKind.PAYMENT,
                    source=ledger.member_account(s, pid),
                    target=ledger.system_account(s, Purpose.SETTLEMENTS, pid),
                    amount=1_000,
                    member_id=pid,
                )
                return ledger.entry_view(e.id, e.kind, e.category, -1_000, e.reference, e.created_at)

            # Two requests per account share a key: each key moves money once.
            answer = ledger.idempotent(s, source="pos", key=f"{pid}-{i // (2 * len(pids))}", body={"pid": pid}, run=run)
            return str(answer.entry_id)

    with ThreadPoolExecutor(12) as pool:
        entries = list(pool.map(pay, range(24)))
    assert len(set(entries)) == 12  # 24 requests, 12 distinct keys
    with unit_of_work(engine, principal=system_principal()) as s:
        for pid in pids:
            assert _balance(s, pid) == 50_000 - 2 * 1_000


def _payment(session: Session, pid: int, amount: int, **kw: object) -> ledger.MemberPayment:
    target = ledger.system_account(session, Purpose.SETTLEMENTS, pid)
    return ledger.MemberPayment(member_id=pid, target=target, amount=amount, category="designated_pharmacy", **kw)  # type: ignore[arg-type]


def test_pay_once_inside_a_transaction(session: Session) -> None:
    pid = _member(session, 10_000)
    body = {"member": pid, "amount": 2_500}
    first = ledger.pay_once(session, _payment(session, pid, 2_500, reference="药店"), source="pos", key="a", body=body)
    assert (first.amount, first.reference, first.kind) == ("-25.00", "药店", EntryKind.PAYMENT)
    again = ledger.pay_once(session, _payment(session, pid, 2_500, reference="药店"), source="pos", key="a", body=body)
    assert again == first and _balance(session, pid) == 7_500
    with pytest.raises(Conflict):
        ledger.pay_once(session, _payment(session, pid, 2_000), source="pos", key="a", body={**body, "amount": 2_000})
    # The entry written is the one answered, with both lines.
    lines = session.execute(
        text("SELECT account_id, amount FROM journal_lines WHERE entry_id = :e ORDER BY amount"),
        {"e": first.entry_id},
    ).all()
    assert [amount for _, amount in lines] == [-2_500, 2_500]
    assert lines[0][0] == ledger.member_account(session, pid).id


def test_pay_once_refusals_write_nothing(session: Session) -> None:
    pid = _member(session, 1_000)
    entries = ledger.verify(session).entries
    with pytest.raises(ledger.InsufficientBalance) as err:
        ledger.pay_once(session, _payment(session, pid, 1_001), source="pos", key="big", body={"n": 1})
    assert "10.01" in err.value.message_zh
    with pytest.raises(ledger.InsufficientBalance):  # what must stay counts
        ledger.pay_once(session, _payment(session, pid, 600, keep=500), source="pos", key="keep", body={"n": 2})
    stranger = get_person(session, create_resident(session, on=date(2022, 9, 1))).id
    with pytest.raises(NotFound):
        ledger.pay_once(session, _payment(session, stranger, 1), source="pos", key="none", body={"n": 3})
    assert ledger.verify(session).entries == entries and _balance(session, pid) == 1_000
    # A refused key stays free: the same key pays once the balance allows it.
    ledger.pay_once(session, _payment(session, pid, 1_000), source="pos", key="big", body={"n": 1})
    assert _balance(session, pid) == 0


def test_pay_once_on_an_autocommit_connection(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        pid = _member(s, 10_000)
        target = ledger.system_account(s, Purpose.SETTLEMENTS, pid)
    payment = ledger.MemberPayment(member_id=pid, target=target, amount=3_000, category="designated_hospital")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        first = ledger.pay_once(conn, payment, source="his", key="k", body={"b": 1})
        assert ledger.pay_once(conn, payment, source="his", key="k", body={"b": 1}) == first
        with pytest.raises(Conflict):
            ledger.pay_once(conn, payment, source="his", key="k", body={"b": 2})
        with pytest.raises(ledger.InsufficientBalance):
            ledger.pay_once(conn, ledger.MemberPayment(pid, target, 7_001), source="his", key="k2", body={"b": 3})
    with unit_of_work(engine, principal=system_principal()) as s:  # committed by itself, nothing else
        assert _balance(s, pid) == 7_000


def test_pay_once_racing_retries_pay_once_per_key(engine: Engine) -> None:
    with unit_of_work(engine, principal=system_principal()) as s:
        pids = [_member(s, 20_000) for _ in range(4)]
        targets = {pid: ledger.system_account(s, Purpose.SETTLEMENTS, pid) for pid in pids}

    def pay(i: int) -> int:
        pid = pids[i % len(pids)]
        payment = ledger.MemberPayment(member_id=pid, target=targets[pid], amount=500)
        key = f"{pid}-{i // (3 * len(pids))}"  # three requests share each key
        if i % 2:  # half through a transaction, half autocommit
            with unit_of_work(engine, principal=system_principal()) as s:
                return ledger.pay_once(s, payment, source="pos", key=key, body={"pid": pid}).entry_id
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return ledger.pay_once(conn, payment, source="pos", key=key, body={"pid": pid}).entry_id

    with ThreadPoolExecutor(12) as pool:
        entries = list(pool.map(pay, range(36)))
    assert len(set(entries)) == 12  # 36 requests, 12 distinct keys
    with unit_of_work(engine, principal=system_principal()) as s:
        for pid in pids:
            assert _balance(s, pid) == 20_000 - 3 * 500
