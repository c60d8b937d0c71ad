"""Account rows: ledger accounts with balances, an append-only journal of balanced entries, holds,
sharing bindings, commercial insurance policies and withdrawal applications; the states they pass through.

Every movement of money is one journal entry whose lines sum to zero, so the sum of all balances never
changes: money is neither created nor lost. Member balances never go below zero (guarded updates and
a CHECK constraint); system counterpart accounts stand for the world outside (contributions coming
in, settlements going out) and may be negative.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from yibao.core.db import Base

E = TypeVar("E", bound=StrEnum)


class State(TypeDecorator[E]):
    """A state column: plain text in the database, a member of its ``StrEnum`` in Python (unknown text fails)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | None, dialect: Dialect) -> str | None:
        """The text stored: only a member's value gets in."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """The member read back."""
        return None if value is None else self.enum(value)


class Purpose(StrEnum):
    """What a ledger account is for."""

    MEMBER = "member"  # an employee's personal account
    CONTRIBUTIONS = "contributions"  # money transferred in from contributions
    SETTLEMENTS = "settlements"  # money paid out to hospitals and pharmacies
    PREMIUMS = "premiums"  # relatives' resident premiums, supplementary premiums
    INSURERS = "insurers"  # commercial insurance premiums and maturity returns
    WITHDRAWALS = "withdrawals"  # balances paid out in the special cases
    HOLDS = "holds"  # amounts held for pre-settlement


class AccountStatus(StrEnum):
    """Whether money may still flow in and out of a member account."""

    OPEN = "open"
    CLOSED = "closed"  # after an approved withdrawal, for good


class EntryKind(StrEnum):
    """What a journal entry records."""

    CREDIT = "credit"  # a contribution transferred in (资金划入)
    PAYMENT = "payment"  # spending from the account, premiums and insurance included
    REVERSAL = "reversal"  # the opposite lines of an earlier entry
    HOLD = "hold"  # an amount set aside for pre-settlement
    HOLD_POSTED = "hold_posted"  # the held amount settled
    HOLD_VOIDED = "hold_voided"  # the held amount returned
    WITHDRAWAL = "withdrawal"  # the balance paid out in a special case
    INSURANCE_RETURN = "insurance_return"  # commercial insurance premiums returned at maturity


class HoldStatus(StrEnum):
    """A hold is posted or voided exactly once."""

    HELD = "held"
    POSTED = "posted"
    VOIDED = "voided"


class BindingStatus(StrEnum):
    """A sharing binding is active until it is ended."""

    ACTIVE = "active"
    ENDED = "ended"


class Channel(StrEnum):
    """Where a holder binds or unbinds a relative (the pack says which are open for which)."""

    YUNNAN_YIBAO_MINIAPP = "yunnan_yibao_miniapp"  # “云南医保”微信小程序
    BANSHITONG_APP = "banshitong_app"  # “一部手机办事通”
    AGENCY_COUNTER = "agency_counter"  # 医保经办机构窗口


class InsuranceStatus(StrEnum):
    """A commercial insurance policy bought from the account."""

    IN_FORCE = "in_force"
    MATURED = "matured"  # premiums returned, nothing more to pay


class WithdrawalStatus(StrEnum):
    """An application to withdraw waits for the agency's decision."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LedgerAccount(Base):
    """A member account (one per insured employee) or a shard of a system counterpart account."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("purpose", "owner_id", "shard", name="uq_ledger_accounts_owner"),
        CheckConstraint("purpose <> 'member' OR balance >= 0", name="member_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[Purpose] = mapped_column(State(Purpose, 16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    shard: Mapped[int] = mapped_column(Integer, default=0)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[AccountStatus] = mapped_column(State(AccountStatus, 16), default=AccountStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    """One balanced movement of money (append-only; corrections are new, linked reversal entries)."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(State(EntryKind, 24))
    category: Mapped[str | None] = mapped_column(String(48))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    reference: Mapped[str | None] = mapped_column(String(128))  # institution, period, receipt ...
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalLine(Base):
    """One side of an entry: a signed amount (fen) added to one account's balance."""

    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class Hold(Base):
    """An amount held on a member account for pre-settlement: posted or voided exactly once."""

    __tablename__ = "ledger_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[HoldStatus] = mapped_column(State(HoldStatus, 16))
    hold_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    close_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    reference: Mapped[str | None] = mapped_column(String(128))


class SharingBinding(Base):
    """个人账户共济绑定: the holder lets a close relative use the account."""

    __tablename__ = "sharing_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relation: Mapped[str] = mapped_column(String(32))
    status: Mapped[BindingStatus] = mapped_column(State(BindingStatus, 16))
    channel: Mapped[Channel] = mapped_column(State(Channel, 32))
    commitment_signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unbound_channel: Mapped[Channel | None] = mapped_column(State(Channel, 32))
    unbound_by: Mapped[str | None] = mapped_column(String(64))  # the clerk at the agency
    unbind_proof: Mapped[str | None] = mapped_column(Text)


class InsurancePolicy(Base):
    """Commercial critical-illness insurance bought from the account (宝宝安康 / 吉瑞安康)."""

    __tablename__ = "account_insurance_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    product: Mapped[str] = mapped_column(String(32))
    shares: Mapped[int] = mapped_column(Integer)
    yearly_premium: Mapped[int] = mapped_column(BigInteger)
    premiums_paid: Mapped[int] = mapped_column(BigInteger)
    years_paid: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    maturity_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[InsuranceStatus] = mapped_column(State(InsuranceStatus, 16))


class WithdrawalRequest(Base):
    """An application to withdraw the balance in one of the special cases, and the agency's decision."""

    __tablename__ = "account_withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    case: Mapped[str] = mapped_column(String(32))
    documents: Mapped[str] = mapped_column(Text)  # JSON list of the documents handed in
    status: Mapped[WithdrawalStatus] = mapped_column(State(WithdrawalStatus, 16))
    heir_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
