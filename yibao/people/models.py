"""Database rows of persons, their declared relations and their insurance records."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.core.db import Base


class Scheme(StrEnum):
    """Insurance schemes a person can be enrolled in."""

    EMPLOYEE = "employee"
    RESIDENT = "resident"


class Status(StrEnum):
    """Status of an insurance record."""

    NORMAL = "normal"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class ChangeKind(StrEnum):
    """What an entry of a record's history records."""

    ENROL = "enrol"
    STATUS = "status"
    MOVE = "move"


class RegistrationChannel(StrEnum):
    """Where an insurance record was registered."""

    BANSHITONG_APP = "banshitong_app"  # 一部手机办事通 (seed 003: 参保登记 through the app)
    AGENCY_COUNTER = "agency_counter"  # at the agency (employees, through their employer)


class Relation(StrEnum):
    """What the relative is to the person (close relatives, 近亲属)."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT_PATERNAL = "grandparent_paternal"  # 祖父母
    GRANDPARENT_MATERNAL = "grandparent_maternal"  # 外祖父母
    GRANDCHILD_PATERNAL = "grandchild_paternal"  # 孙子女
    GRANDCHILD_MATERNAL = "grandchild_maternal"  # 外孙子女


# If B is A's <relation>, A is B's INVERSE[<relation>]: my paternal grandparent has me as a son's child.
INVERSE: dict[Relation, Relation] = {
    Relation.SPOUSE: Relation.SPOUSE,
    Relation.PARENT: Relation.CHILD,
    Relation.CHILD: Relation.PARENT,
    Relation.SIBLING: Relation.SIBLING,
    Relation.GRANDPARENT_PATERNAL: Relation.GRANDCHILD_PATERNAL,
    Relation.GRANDPARENT_MATERNAL: Relation.GRANDCHILD_MATERNAL,
    Relation.GRANDCHILD_PATERNAL: Relation.GRANDPARENT_PATERNAL,
    Relation.GRANDCHILD_MATERNAL: Relation.GRANDPARENT_MATERNAL,
}


def new_psn_no() -> str:
    """A fresh insured-person number (人员编号): 16 random upper-case hex characters.

    Opaque (it says nothing about the person, unlike the ID number) and stable (issued once, never
    changed). Never 17 digits in a row, so that no part of it can pass for an ID number.
    """
    return secrets.token_hex(8).upper()


class Person(Base):
    """A natural person known to the system (insured, payer, relative)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    # 人员编号 of the national interface: how hospitals name the person after 1101, never the ID number.
    psn_no: Mapped[str] = mapped_column(String(16), unique=True, default=new_psn_no)
    card_no: Mapped[str | None] = mapped_column(String(32), unique=True)  # 社会保障卡号, when recorded
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonRelation(Base):
    """A declared family relation, stored once: ``relative`` is ``relation`` of ``person``."""

    __tablename__ = "person_relations"
    __table_args__ = (
        UniqueConstraint("person_id", "relative_id", name="uq_person_relations_pair"),
        CheckConstraint("person_id < relative_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relation: Mapped[str] = mapped_column(String(32))  # Relation
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InsuranceRecord(Base):
    """A person's enrolment in one scheme: status, pooling region (agency), group, employer."""

    __tablename__ = "insurance_records"
    __table_args__ = (UniqueConstraint("person_id", "scheme", name="uq_insurance_records_person_scheme"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(16))  # Scheme
    status: Mapped[str] = mapped_column(String(16))  # Status
    region_code: Mapped[str] = mapped_column(String(6))
    population_group: Mapped[str] = mapped_column(String(16))  # yibao.engine.claims.Group
    employer: Mapped[str | None] = mapped_column(String(128))
    flexible: Mapped[bool] = mapped_column(Boolean, default=False)
    school: Mapped[str | None] = mapped_column(String(128))
    enrolled_on: Mapped[date] = mapped_column(Date)
    benefits_from: Mapped[date] = mapped_column(Date)
    registered_by: Mapped[str | None] = mapped_column(String(18))  # ID number of whoever registered on their behalf
    channel: Mapped[str] = mapped_column(String(32))  # RegistrationChannel
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordChange(Base):
    """History of an insurance record: enrolment, status changes and agency moves, with reasons."""

    __tablename__ = "insurance_record_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("insurance_records.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ChangeKind
    old_value: Mapped[str | None] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
