"""Database rows of premium payments (each one is also its electronic receipt)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class PremiumPayment(Base):
    """One paid resident premium for one contribution year, with its receipt number."""

    __tablename__ = "premium_payments"
    __table_args__ = (UniqueConstraint("insured_id", "scheme", "year", name="uq_premium_payments_insured_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    payer_id_number: Mapped[str] = mapped_column(String(18), index=True)
    payer_name: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    region_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(32))
    collector: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128))  # for reference: keys live in the idempotency store
    request_hash: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
