"""The double-entry core: balanced entries, guarded debits, reversals, holds, idempotency, verification.

Balances are updated with single guarded statements (``UPDATE ... SET balance = balance - x WHERE
id = ? AND balance >= x``) whose row count is checked, so concurrent payments can never take a member
account below zero and never lose an update. Hot system accounts are split into shards chosen by the
member, so that many payments do not queue on one row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import Connection, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.accounts.models import (
    AccountStatus,
    EntryKind,
    Hold,
    HoldStatus,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Purpose,
)
from yibao.accounts.schemas import EntryOut, Verification
from yibao.core import clock
from yibao.core.dates import utc_iso
from yibao.core.db import raise_as_sqlalchemy
from yibao.core.errors import AppError, Conflict, NotFound, ValidationFailed
from yibao.core.idempotency import MAX_NAMESPACE, check_key, key_reused, once, request_hash
from yibao.core.money import format_yuan
from yibao.core.unit import RetryUnit, retryable

# Shards per system account. An assumed operational value (not policy): enough to spread 16
# concurrent writers on two cores. The shards are rows created by migration 0005; more shards
# need a migration adding them.
SYSTEM_SHARDS = 8


class InsufficientBalance(AppError):
    """The member account does not hold enough for this debit."""

    code = "accounts.insufficient_balance"
    http_status = 422
    exit_code = 5


class AccountClosed(AppError):
    """The account was closed after a withdrawal."""

    code = "accounts.closed"
    http_status = 409
    exit_code = 4


_MEMBER_ACCOUNT = (
    select(LedgerAccount)
    .where(LedgerAccount.purpose == Purpose.MEMBER, LedgerAccount.owner_id == bindparam("owner_id"))
    .execution_options(populate_existing=True)
)


def member_account(session: Session, person_id: int, *, create: bool = False) -> LedgerAccount:
    """The member account of a person (created on request), as the database holds it now.

    The balance moves by single UPDATE statements that bypass the session (see :func:`pay_once`), so the
    row is read afresh even when the session already holds it.
    """
    acc = session.scalar(_MEMBER_ACCOUNT, {"owner_id": person_id})
    if acc is None:
        if not create:
            raise no_account()
        acc = LedgerAccount(
            purpose=Purpose.MEMBER,
            owner_id=person_id,
            shard=0,
            balance=0,
            status=AccountStatus.OPEN,
            created_at=clock.now(),
        )
        session.add(acc)
        session.flush()
    return acc


def no_account() -> NotFound:
    """The refusal for an employee whose personal account has not been opened."""
    return NotFound("该参保人没有个人账户", "the person has no personal account", code="accounts.no_account")


@dataclass(frozen=True, slots=True)
class AccountRef:
    """Enough of an account to move money on it: its id and purpose (no row loaded)."""

    id: int
    purpose: Purpose


# System account ids never change once created: remember them per database, so that a payment
# does not look its counterpart up again.
_SYSTEM_IDS: dict[tuple[str, Purpose, int], int] = {}


def system_account(session: Session, purpose: Purpose, member_id: int) -> AccountRef:
    """The shard of a system counterpart account that serves this member (shards are created by migration)."""
    shard = member_id % SYSTEM_SHARDS
    cache_key = (str(session.get_bind().engine.url), purpose, shard)
    known = _SYSTEM_IDS.get(cache_key)
    if known is None:
        known = session.scalar(
            select(LedgerAccount.id).where(
                LedgerAccount.purpose == purpose, LedgerAccount.owner_id.is_(None), LedgerAccount.shard == shard
            )
        )
        if known is None:
            raise RuntimeError(f"system account {purpose}/{shard} is missing: run `yibao db upgrade`")
        _SYSTEM_IDS[cache_key] = known
    return AccountRef(known, purpose)


def _apply(session: Session, account: LedgerAccount | AccountRef, amount: int, keep: int = 0) -> None:
    """Add a signed amount to a balance in one statement; member debits are guarded against overdraft.

    ``keep`` is what must stay in the account after a debit (the 1,000 below which commercial
    insurance may not be bought).
    """
    stmt = update(LedgerAccount).where(LedgerAccount.id == account.id)
    if amount < 0 and account.purpose == Purpose.MEMBER:
        stmt = stmt.where(LedgerAccount.balance >= -amount + keep, LedgerAccount.status == AccountStatus.OPEN)
    result = session.execute(
        stmt.values(balance=LedgerAccount.balance + amount).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        _refuse_debit(session, account, amount, keep)
    if isinstance(account, LedgerAccount):
        session.expire(account, ["balance"])


def _refuse_debit(session: Session, account: LedgerAccount | AccountRef, amount: int, keep: int) -> NoReturn:
    """Say why a guarded debit changed no row: the account is closed, or the balance is short."""
    _refuse_status(session.scalar(select(LedgerAccount.status).where(LedgerAccount.id == account.id)), -amount, keep)


def _refuse_status(status: AccountStatus | None, amount: int, keep: int) -> NoReturn:
    if status != AccountStatus.OPEN:
        raise AccountClosed("个人账户已注销", "the personal account is closed")
    need = amount + keep
    raise InsufficientBalance(
        f"个人账户余额不足（需 {format_yuan(need)} 元"
        + (f"，其中 {format_yuan(keep)} 元须保留" if keep else "")
        + "）",
        f"insufficient personal account balance (needs {format_yuan(need)} yuan"
        + (f", of which {format_yuan(keep)} must stay" if keep else "")
        + ")",
    )


@dataclass(frozen=True, slots=True)
class Leg:
    """One line of an entry: ``amount`` fen added to ``account`` (negative takes away)."""

    account: LedgerAccount | AccountRef
    amount: int
    keep: int = 0


def post_entry(
    session: Session,
    *,
    kind: EntryKind,
    legs: list[Leg],
    member_id: int | None = None,
    category: str | None = None,
    beneficiary_id: int | None = None,
    reference: str | None = None,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Write one balanced entry and apply it to the balances (debits first, so a refusal writes nothing)."""
    if sum(leg.amount for leg in legs) != 0 or len(legs) < 2:
        raise ValueError("an entry must balance to zero over at least two lines")
    if any(leg.amount == 0 for leg in legs):
        raise ValueError("entry lines must move money")
    values = {
        "kind": kind,
        "category": category,
        "member_id": member_id,
        "beneficiary_id": beneficiary_id,
        "reference": reference,
        "reverses_id": reverses_id,
        "created_at": clock.now(),
    }
    if len(legs) == 2 and session.get_bind().dialect.name == "postgresql":
        return _post_pair_in_one_statement(session, legs, values)
    for leg in sorted(legs, key=lambda leg: leg.amount):
        _apply(session, leg.account, leg.amount, leg.keep)
    entry = JournalEntry(**values)
    session.add(entry)
    session.flush()
    session.add_all([JournalLine(entry_id=entry.id, account_id=leg.account.id, amount=leg.amount) for leg in legs])
    session.flush()
    return entry


# In the statements below, 'member' is Purpose.MEMBER and 'open' AccountStatus.OPEN.
#
# After the guarded debit ``d`` of a one-statement movement: the credit, the entry and its two lines,
# each step only if the one before it changed a row, so a refused debit writes nothing and leaves the
# transaction usable. Shared by every movement PostgreSQL makes in one round trip.
_CREDIT_ENTRY_LINES = """
    c AS (
        UPDATE ledger_accounts SET balance = balance + :amount
        WHERE id = :credit_id AND EXISTS (SELECT 1 FROM d)
        RETURNING id
    ), e AS (
        INSERT INTO journal_entries (kind, category, member_id, beneficiary_id, reference, reverses_id, created_at)
        SELECT :kind, :category, :member_id, :beneficiary_id, :reference, :reverses_id, :created_at
        WHERE EXISTS (SELECT 1 FROM c)
        RETURNING id
    ), l AS (
        INSERT INTO journal_lines (entry_id, account_id, amount)
        SELECT e.id, d.id, -CAST(:amount AS BIGINT) FROM e, d
        UNION ALL
        SELECT e.id, CAST(:credit_id AS INTEGER), CAST(:amount AS BIGINT) FROM e
    )"""

# The general two-line entry of post_entry in one round trip to PostgreSQL.
_PAIR_SQL = text(
    """
    WITH d AS (
        UPDATE ledger_accounts SET balance = balance - :amount
        WHERE id = :debit_id AND (purpose <> 'member' OR (balance >= :need AND status = 'open'))
        RETURNING id
    ),"""
    + _CREDIT_ENTRY_LINES
    + """
    SELECT id FROM e
    """
)


def _post_pair_in_one_statement(session: Session, legs: list[Leg], values: dict[str, Any]) -> JournalEntry:
    debit, credit = sorted(legs, key=lambda leg: leg.amount)
    session.flush()  # pending ORM changes go first, as they would in the general path
    entry_id = session.execute(
        _PAIR_SQL,
        {
            **values,
            "amount": credit.amount,
            "need": credit.amount + debit.keep,
            "debit_id": debit.account.id,
            "credit_id": credit.account.id,
        },
    ).scalar()
    for leg in legs:
        if isinstance(leg.account, LedgerAccount):
            session.expire(leg.account, ["balance"])
    if entry_id is None:
        _refuse_debit(session, debit.account, debit.amount, debit.keep)
    return JournalEntry(id=entry_id, **values)


def transfer(
    session: Session,
    *,
    kind: EntryKind,
    source: LedgerAccount | AccountRef,
    target: LedgerAccount | AccountRef,
    amount: int,
    member_id: int | None = None,
    category: str | None = None,
    beneficiary_id: int | None = None,
    reference: str | None = None,
    keep: int = 0,
) -> JournalEntry:
    """Move ``amount`` fen from one account to another as one entry (leaving at least ``keep`` in the source)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed("amount", "金额必须为正", "amount must be positive")
    return post_entry(
        session,
        kind=kind,
        legs=[Leg(source, -amount, keep), Leg(target, amount)],
        member_id=member_id,
        category=category,
        beneficiary_id=beneficiary_id,
        reference=reference,
    )


def reverse(session: Session, entry_id: int, *, reason: str) -> JournalEntry:
    """Reverse an entry with a new, linked entry of opposite lines: at most once, never more than it moved."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound("没有该记账分录", "no such journal entry", code="accounts.no_entry")
    if original.reverses_id is not None:
        raise Conflict("冲正分录不能再冲正", "a reversal cannot itself be reversed", code="accounts.reverse_reversal")
    lines = list(session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id)))
    legs = []
    for line in lines:
        acc = session.get(LedgerAccount, line.account_id)
        assert acc is not None
        legs.append(Leg(acc, -line.amount))
    try:
        with session.begin_nested():
            return post_entry(
                session,
                kind=EntryKind.REVERSAL,
                legs=legs,
                member_id=original.member_id,
                category=original.category,
                beneficiary_id=original.beneficiary_id,
                reference=reason,
                reverses_id=original.id,
            )
    except IntegrityError:
        raise Conflict("该分录已冲正", "the entry is already reversed", code="accounts.already_reversed") from None


def hold(session: Session, *, member_id: int, amount: int, reference: str | None = None) -> Hold:
    """Set an amount aside for pre-settlement (it leaves the usable balance now)."""
    acc = member_account(session, member_id)
    entry = transfer(
        session,
        kind=EntryKind.HOLD,
        source=acc,
        target=system_account(session, Purpose.HOLDS, member_id),
        amount=amount,
        member_id=member_id,
        reference=reference,
    )
    h = Hold(member_id=member_id, amount=amount, status=HoldStatus.HELD, hold_entry_id=entry.id, reference=reference)
    session.add(h)
    session.flush()
    return h


# The entry that closes a hold, by how it is closed.
_CLOSING_KIND = {HoldStatus.POSTED: EntryKind.HOLD_POSTED, HoldStatus.VOIDED: EntryKind.HOLD_VOIDED}


def _close_hold(session: Session, hold_id: int, to: HoldStatus) -> Hold:
    h = session.get(Hold, hold_id)
    if h is None:
        raise NotFound("没有该预扣", "no such hold", code="accounts.no_hold")
    # Claim the hold in one guarded statement: a second post or void finds it no longer held.
    claimed = session.execute(
        update(Hold)
        .where(Hold.id == hold_id, Hold.status == HoldStatus.HELD)
        .values(status=to)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("该预扣已结算或已撤销", "the hold is already posted or voided", code="accounts.hold_closed")
    holds = system_account(session, Purpose.HOLDS, h.member_id)
    target = (
        system_account(session, Purpose.SETTLEMENTS, h.member_id)
        if to == HoldStatus.POSTED
        else member_account(session, h.member_id)
    )
    entry = transfer(
        session,
        kind=_CLOSING_KIND[to],
        source=holds,
        target=target,
        amount=h.amount,
        member_id=h.member_id,
        reference=h.reference,
    )
    session.execute(
        update(Hold)
        .where(Hold.id == hold_id)
        .values(close_entry_id=entry.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(h)
    return h


def post_hold(session: Session, hold_id: int) -> Hold:
    """Settle a hold: the held amount goes to the institution's settlement account."""
    return _close_hold(session, hold_id, HoldStatus.POSTED)


def void_hold(session: Session, hold_id: int) -> Hold:
    """Release a hold: the held amount returns to the member."""
    return _close_hold(session, hold_id, HoldStatus.VOIDED)


def _check_key(source: str, key: str) -> None:
    check_key(key)
    if not source or len(source) > MAX_NAMESPACE:
        raise ValidationFailed("X-Source-System", "须提供来源系统", "a source system is required")


def idempotent(
    session: Session, *, source: str, key: str, body: dict[str, Any], run: Callable[[], EntryOut]
) -> EntryOut:
    """Run a money-moving request once per (source, key); a retry with the same body gets the first answer."""
    _check_key(source, key)
    answer = once(session, space=source, key=key, body=body, run=lambda: run().model_dump(mode="json"))
    return EntryOut.model_validate(answer)


# ---- one payment, one statement ------------------------------------------------------------------
#
# Payments from member accounts are the ledger's hot path (every hospital and pharmacy bill). On
# PostgreSQL the whole payment -- look up an earlier answer for the idempotency key, guarded debit of
# the member account found by its owner, credit of the counterpart shard, the entry, its two lines and
# the idempotency record with the answer -- is one statement, so one round trip. Each step runs only if
# the one before it changed a row: a refused debit or a replayed key writes nothing. Two requests racing
# with the same key both pass the lookup; the second one's key insert then violates the unique key and
# the database undoes that whole statement, after which the first answer is read back.
_PAY_ONCE_SQL = (
    """
WITH prior AS (
    SELECT request_hash, response FROM ledger_idempotency WHERE source = :source AND key = :key
), d AS (
    UPDATE ledger_accounts SET balance = balance - :amount
    WHERE purpose = 'member' AND owner_id = :member_id AND shard = 0
      AND balance >= :need AND status = 'open' AND NOT EXISTS (SELECT 1 FROM prior)
    RETURNING id
),"""
    + _CREDIT_ENTRY_LINES
    + """, k AS (
    INSERT INTO ledger_idempotency (source, key, request_hash, response, created_at)
    SELECT :source, :key, :request_hash,
           CAST(jsonb_set(CAST(:answer AS JSONB), '{entry_id}', to_jsonb(e.id)) AS TEXT), :created_at
    FROM e
    RETURNING response
)
SELECT 'new' AS outcome, NULL AS request_hash, response FROM k
UNION ALL
SELECT 'prior', request_hash, response FROM prior
"""
)


_PRIOR_SQL = "SELECT 'prior', request_hash, response FROM ledger_idempotency WHERE source = :source AND key = :key"  # read back after a lost race


def _driver_style(sql: str) -> str:
    """The same text with the driver's own placeholders (``:name`` becomes ``%(name)s``)."""
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql)


_PAY_ONCE, _PAY_ONCE_DRIVER = text(_PAY_ONCE_SQL), _driver_style(_PAY_ONCE_SQL)
_PRIOR, _PRIOR_DRIVER = text(_PRIOR_SQL), _driver_style(_PRIOR_SQL)


@dataclass(frozen=True, slots=True)
class MemberPayment:
    """A payment from a person's member account to a counterpart account."""

    member_id: int
    target: AccountRef
    amount: int  # fen, positive
    kind: EntryKind = EntryKind.PAYMENT
    category: str | None = None
    beneficiary_id: int | None = None
    reference: str | None = None
    keep: int = 0  # what must stay in the account afterwards

    def answer(self, entry_id: int, at: datetime) -> EntryOut:
        """What the payment answers (and a retry with the same key gets again)."""
        return entry_view(entry_id, self.kind, self.category, -self.amount, self.reference, at)


def entry_view(
    entry_id: int, kind: EntryKind, category: str | None, amount: int, reference: str | None, at: datetime
) -> EntryOut:
    """An entry as a member sees it: ``amount`` is what it added to (or, negative, took from) their account."""
    return EntryOut(
        entry_id=entry_id,
        kind=kind,
        category=category,
        amount=format_yuan(amount),
        reference=reference,
        at=utc_iso(at),
    )


def pay_once(
    bind: Session | Connection, payment: MemberPayment, *, source: str, key: str, body: dict[str, Any]
) -> EntryOut:
    """Make ``payment`` once per (source, key): the same key and body get the first answer, another body is refused.

    ``bind`` is a session or connection inside a transaction (the payment joins it, behind a
    savepoint), or a connection in autocommit mode (the payment is then its own transaction and, on
    PostgreSQL, one round trip). Other databases take the general path -- :func:`idempotent` around
    :func:`transfer` -- with the same answers.
    """
    _check_key(source, key)
    if isinstance(payment.amount, bool) or not isinstance(payment.amount, int) or payment.amount <= 0:
        raise ValidationFailed("amount", "金额必须为正", "amount must be positive")
    now = clock.now()
    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    if dialect != "postgresql":
        return _pay_once_general(bind, payment, source=source, key=key, body=body, now=now)
    digest = request_hash(body)
    params = {
        "source": source,
        "key": key,
        "request_hash": digest,
        "answer": payment.answer(0, now).model_dump_json(),
        "member_id": payment.member_id,
        "credit_id": payment.target.id,
        "amount": payment.amount,
        "need": payment.amount + payment.keep,
        "kind": payment.kind,
        "category": payment.category,
        "beneficiary_id": payment.beneficiary_id,
        "reference": payment.reference,
        "reverses_id": None,
        "created_at": now,
    }
    rows = _run_pay_once(bind, params)
    if not rows:
        # A retry racing its own first attempt waited on the account row and then found the money gone:
        # the first attempt has committed by now, and its answer is the answer.
        rows = list(bind.execute(_PRIOR, params).all())
    if not rows:
        _refuse_member_debit(bind, payment.member_id, payment.amount, payment.keep)
    outcome, prior_hash, response = rows[0]
    if outcome == "prior" and prior_hash != digest:
        raise key_reused()
    return EntryOut.model_validate_json(response)


def _prepared_payment(raw: Any, params: dict[str, Any]) -> list[Any]:
    """The payment on the driver's own connection, prepared: PostgreSQL plans it once per connection, and
    going to the driver directly saves more client time than the database spends on the whole payment."""
    with raw.cursor() as cur:
        cur.execute(_PAY_ONCE_DRIVER, params, prepare=True)
        return list(cur.fetchall())


def _lost_race_for_key(driver_error: BaseException | None) -> bool:
    """The payment's insert of its idempotency key met another's: the key's first request won."""
    return getattr(getattr(driver_error, "diag", None), "table_name", None) == "ledger_idempotency"


def _run_pay_once(bind: Session | Connection, params: dict[str, Any]) -> list[Any]:
    if isinstance(bind, Connection) and not bind.in_transaction():
        raw = bind.connection.driver_connection
        if raw is not None and getattr(raw, "autocommit", False):
            import psycopg  # only here: the PostgreSQL driver

            try:
                return _prepared_payment(raw, params)
            except psycopg.errors.UniqueViolation:
                with raw.cursor() as cur:
                    cur.execute(_PRIOR_DRIVER, params)
                    return list(cur.fetchall())
    if isinstance(bind, Session) and retryable(bind):
        # No savepoint round trips: losing the race for the key aborts the transaction, and the unit
        # of work starts over, finding the winner's answer.
        conn = bind.connection()
        if conn.dialect.name == "postgresql":  # the request path's payment, in the unit's transaction
            raw = conn.connection.driver_connection
            try:
                return _prepared_payment(raw, params)
            except conn.dialect.loaded_dbapi.Error as exc:
                if _lost_race_for_key(exc):
                    raise RetryUnit from exc
                raise_as_sqlalchemy(conn, _PAY_ONCE_DRIVER, exc)
        try:
            return list(bind.execute(_PAY_ONCE, params).all())
        except IntegrityError as exc:
            if _lost_race_for_key(exc.orig):
                raise RetryUnit from exc
            raise
    try:
        with bind.begin_nested():
            return list(bind.execute(_PAY_ONCE, params).all())
    except IntegrityError:
        return list(bind.execute(_PRIOR, params).all())


def _pay_once_general(
    bind: Session | Connection, payment: MemberPayment, *, source: str, key: str, body: dict[str, Any], now: datetime
) -> EntryOut:
    if isinstance(bind, Connection):
        with Session(bind=bind) as session:
            if bind.in_transaction():
                return _pay_once_general(session, payment, source=source, key=key, body=body, now=now)
            with session.begin():
                return _pay_once_general(session, payment, source=source, key=key, body=body, now=now)

    def run() -> EntryOut:
        entry = transfer(
            bind,
            kind=payment.kind,
            source=member_account(bind, payment.member_id),
            target=payment.target,
            amount=payment.amount,
            member_id=payment.member_id,
            category=payment.category,
            beneficiary_id=payment.beneficiary_id,
            reference=payment.reference,
            keep=payment.keep,
        )
        return payment.answer(entry.id, entry.created_at)

    return idempotent(bind, source=source, key=key, body=body, run=run)


def _refuse_member_debit(bind: Session | Connection, member_id: int, amount: int, keep: int) -> NoReturn:
    """Say why a payment from a member account moved nothing."""
    row = bind.execute(
        select(LedgerAccount.id, LedgerAccount.status).where(
            LedgerAccount.purpose == Purpose.MEMBER, LedgerAccount.owner_id == member_id
        )
    ).first()
    if row is None:
        raise NotFound("该参保人没有个人账户", "the person has no personal account", code="accounts.no_account")
    _refuse_status(row.status, amount, keep)


def verify(session: Session) -> Verification:
    """Every balance equals the sum of its journal lines; every entry sums to zero; all balances sum to zero."""
    problems: list[str] = []
    sums = dict(
        session.execute(
            select(JournalLine.account_id, func.sum(JournalLine.amount)).group_by(JournalLine.account_id)
        ).all()
    )
    accounts = list(session.scalars(select(LedgerAccount)))
    total = 0
    for acc in accounts:
        total += acc.balance
        if acc.balance != int(sums.get(acc.id) or 0):
            problems.append(
                f"account {acc.id} ({acc.purpose}): balance {acc.balance} != journal {sums.get(acc.id) or 0}"
            )
        if acc.purpose == Purpose.MEMBER and acc.balance < 0:
            problems.append(f"member account {acc.id} is negative")
    unbalanced = session.execute(
        select(JournalLine.entry_id).group_by(JournalLine.entry_id).having(func.sum(JournalLine.amount) != 0)
    ).all()
    problems += [f"entry {row[0]} does not balance" for row in unbalanced]
    if total != 0:
        problems.append(f"all balances sum to {total}, not 0: money was created or lost")
    entries = int(session.scalar(select(func.count()).select_from(JournalEntry)) or 0)
    return Verification(ok=not problems, accounts=len(accounts), entries=entries, total=total, problems=problems)
