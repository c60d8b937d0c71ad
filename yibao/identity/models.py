"""Who can log in: insured persons, agency staff, institutions and batch services; their tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class LoginKind(StrEnum):
    """Who a login is: persons and staff log in with a password, institutions and services with an API key."""

    PERSON = "person"
    STAFF = "staff"
    INSTITUTION = "institution"
    SERVICE = "service"


class TokenPurpose(StrEnum):
    """What a bearer token is for."""

    SESSION = "session"  # a login session, ended by logout, password change or lockout
    API = "api"  # a client system's long-lived key


class Identity(Base):
    """A login: a person (by ID number), a staff member, an institution or a service."""

    __tablename__ = "auth_identities"
    __table_args__ = (UniqueConstraint("kind", "login", name="uq_auth_identities_login"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # LoginKind
    login: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # yibao.core.auth.Role
    region: Mapped[str | None] = mapped_column(String(6))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(128))  # argon2id; institutions and services use tokens
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))


class AuthToken(Base):
    """A bearer token, stored only as its SHA-256: a login session, or a long-lived key for a client system."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("auth_identities.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # TokenPurpose
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
