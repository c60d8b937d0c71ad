"""Facts about the deployment itself, kept in the database (schema creation, policy pack in use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from yibao.core import clock
from yibao.core.db import Base


class DeploymentMeta(Base):
    """One key/value fact about this deployment."""

    __tablename__ = "deployment_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def set_meta(session: Session, key: str, value: str) -> None:
    """Record (or replace) a deployment fact."""
    row = session.get(DeploymentMeta, key)
    now = clock.now()
    if row is None:
        session.add(DeploymentMeta(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
    session.flush()


def get_meta(session: Session) -> dict[str, str]:
    """Every recorded deployment fact."""
    return {r.key: r.value for r in session.scalars(select(DeploymentMeta))}
