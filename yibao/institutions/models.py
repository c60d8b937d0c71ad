"""Database rows of designated institutions (定点医药机构)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class InstitutionKind(StrEnum):
    """What kind of designated institution."""

    HOSPITAL = "hospital"  # 医院 (levels 1-3)
    COMMUNITY_HEALTH_CENTER = "community_health_center"  # 社区卫生服务中心 (level 1 unless registered otherwise)
    PHARMACY = "pharmacy"  # 定点零售药店 (no level)


class InstitutionStatus(StrEnum):
    """Whether the agency lets the institution settle at all (its designation dates aside)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"  # 暂停医保服务 (e.g. during an inspection)


class Institution(Base):
    """A designated institution: who it is, where, since when, and its secret for signing messages."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # 定点医药机构编码, e.g. H53010000001
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(6), index=True)  # pooling region (its agency clears its claims)
    designated_from: Mapped[date] = mapped_column(Date)
    designated_until: Mapped[date | None] = mapped_column(Date)  # last day designated (None: open-ended)
    paasid: Mapped[str] = mapped_column(String(64), unique=True)  # x-tif-paasid, e.g. yb_H53010000001
    secret_sealed: Mapped[str] = mapped_column(String(128))  # AES-GCM nonce + ciphertext, base64 (never plain)
    secret_version: Mapped[int] = mapped_column(Integer)
    infcode_string: Mapped[bool] = mapped_column(Boolean, default=False)  # answer infcode as "0"/"-1"
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(200))
    identity_id: Mapped[int] = mapped_column(ForeignKey("auth_identities.id"), unique=True)  # its login
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class InstitutionView:
    """What a message's handler knows of the institution that sent it (a frozen copy, no database row)."""

    id: int
    code: str
    name: str
    kind: InstitutionKind
    level: int | None
    region: str
    paasid: str
    identity_id: int
    infcode_string: bool
    status: InstitutionStatus
    designated_from: date
    designated_until: date | None

    def refusal(self, on: date) -> str | None:
        """Why the institution may not settle on ``on`` (None: it may)."""
        if self.status is InstitutionStatus.SUSPENDED:
            return f"定点医药机构 {self.code} 已暂停医保服务"
        if on < self.designated_from:
            return f"定点医药机构 {self.code} 的定点资格自 {self.designated_from} 起生效，尚未生效"
        if self.designated_until is not None and on > self.designated_until:
            return f"定点医药机构 {self.code} 的定点资格已于 {self.designated_until} 终止"
        return None


def view_of(row: Institution) -> InstitutionView:
    """The frozen view of an institution row."""
    return InstitutionView(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=InstitutionKind(row.kind),
        level=row.level,
        region=row.region,
        paasid=row.paasid,
        identity_id=row.identity_id,
        infcode_string=row.infcode_string,
        status=InstitutionStatus(row.status),
        designated_from=row.designated_from,
        designated_until=row.designated_until,
    )
