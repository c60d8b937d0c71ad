"""Database rows of the national interface: seen nonces and sign-ins (9001/9002).

Both live in the database, so that every worker process of ``yibao serve --workers N`` (and every server
behind one proxy) sees the same ones. Message ids (``msgid``) are kept by the one idempotency store
(:mod:`yibao.core.idempotency`), in the namespace of the institution that sent them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class SeenNonce(Base):
    """A nonce (``x-tif-nonce``) an app account has used; a second use within the time window is refused."""

    __tablename__ = "nhsa_nonces"

    paasid: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignIn(Base):
    """An operator's sign-in (9001): its ``sign_no`` is current until signed out (9002) or the day ends."""

    __tablename__ = "nhsa_signins"

    sign_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    opter_no: Mapped[str] = mapped_column(String(30))
    mac: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # the China calendar day of the sign-in: valid through its end
    signed_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    msgid: Mapped[str] = mapped_column(String(30))
    sign_out_msgid: Mapped[str | None] = mapped_column(String(30))
    opter_type: Mapped[str | None] = mapped_column(String(3))
