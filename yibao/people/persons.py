"""Persons: finding them, deciding whether the caller may act on them, and showing them with their records.

Services flush and never commit: the entry point (request, CLI command) owns the transaction, so a
refused request leaves nothing half-written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yibao.core import auth
from yibao.core.auth import Role, Scope, Subject, rule, sees_full_ids
from yibao.core.errors import NotFound
from yibao.core.ids import parse_id_number
from yibao.people.models import InsuranceRecord, Person, RecordChange, Scheme
from yibao.people.schemas import PersonOut, person_out, record_out

READ = rule(
    "people.read",
    "查询参保信息 / read a person's records",
    writes=False,
    roles=auth.REGION_READERS,
    person=Scope.BOUND,
)


def subject_of(session: Session, person: Person) -> Subject:
    """A person as the subject of an action: who, and the regions where they are insured."""
    regions = session.scalars(select(InsuranceRecord.region_code).where(InsuranceRecord.person_id == person.id))
    return Subject(person_id=person.id, id_number=person.id_number, regions=frozenset(regions))


def require(session: Session, id_number: str, action: str, **detail: Any) -> tuple[Person, auth.Principal]:
    """The person an action is about, once the caller is allowed to act on them.

    The check comes first: to a caller who could not see the person anyway, an unknown ID number is
    refused exactly like a known one, so that trying numbers reveals nothing.
    """
    person, _, caller = require_with_records(session, id_number, action, **detail)
    return person, caller


_PERSON_WITH_RECORDS = (
    select(Person, InsuranceRecord)
    .outerjoin(InsuranceRecord, InsuranceRecord.person_id == Person.id)
    .where(Person.id_number == bindparam("id_number"))
    .order_by(InsuranceRecord.id)
)


def require_with_records(
    session: Session, id_number: str, action: str, **detail: Any
) -> tuple[Person, list[InsuranceRecord], auth.Principal]:
    """:func:`require`, with the person's insurance records (read in the same query)."""
    idn = parse_id_number(id_number).value  # a malformed number is bad input, whoever asks
    rows = session.execute(_PERSON_WITH_RECORDS, {"id_number": idn}).all()
    person = rows[0][0] if rows else None
    records = [r for _, r in rows if r is not None]
    found = (person.id, person.id_number, frozenset(r.region_code for r in records)) if person else None
    caller = authorize_found(session, idn, found, action, **detail)
    assert person is not None
    return person, records, caller


def authorize_found(
    session: Session, id_number: str, found: tuple[int, str, frozenset[str]] | None, action: str, **detail: Any
) -> auth.Principal:
    """Allow ``action`` on the person looked up by ``id_number`` (``found``: their row id, ID number and
    pooling regions, or None), then refuse an unknown one: the check comes first (see :func:`require`)."""
    subject = (
        Subject(person_id=found[0], id_number=found[1], regions=found[2]) if found else Subject(id_number=id_number)
    )
    caller = auth.authorize(session, action, subject, **detail)
    if found is None:
        raise NotFound("未找到该参保人", "no person with this ID number", code="people.not_found")
    return caller


def acting_login(session: Session, default: str) -> str:
    """Who to record as having done a change: the caller's login, or ``default`` for the operator."""
    p = auth.principal_of(session)
    return p.login if p is not None and p.role is not Role.SYSTEM else default


def find_person(session: Session, id_number: str) -> Person | None:
    """The person with this ID number, if known."""
    return session.scalar(select(Person).where(Person.id_number == id_number.strip().upper()))


def _with_records_by(column: Any) -> Any:
    return (
        select(Person, InsuranceRecord)
        .outerjoin(InsuranceRecord, InsuranceRecord.person_id == Person.id)
        .where(column == bindparam("value"))
        .order_by(InsuranceRecord.id)
    )


# Built once: hospitals look persons up on every message.
_WITH_RECORDS = {
    "psn_no": _with_records_by(Person.psn_no),
    "id_number": _with_records_by(Person.id_number),
    "card_no": _with_records_by(Person.card_no),
}


def find_with_records(
    session: Session, *, psn_no: str | None = None, id_number: str | None = None, card_no: str | None = None
) -> tuple[Person, list[InsuranceRecord]] | None:
    """A person found by one of their numbers, with every insurance record (one query), if known."""
    given = [(k, v) for k, v in (("psn_no", psn_no), ("id_number", id_number), ("card_no", card_no)) if v]
    if len(given) != 1:
        raise ValueError("one of psn_no, id_number or card_no is needed")
    by, value = given[0]
    rows = session.execute(_WITH_RECORDS[by], {"value": value.strip().upper()}).all()
    if not rows:
        return None
    return rows[0][0], [r for _, r in rows if r is not None]


def find_by_psn_no(session: Session, psn_no: str) -> Person | None:
    """The person with this insured-person number (人员编号), if known."""
    return session.scalar(select(Person).where(Person.psn_no == psn_no.strip().upper()))


def find_by_card_no(session: Session, card_no: str) -> Person | None:
    """The person whose social-security card number (社会保障卡号) is on record, if any."""
    return session.scalar(select(Person).where(Person.card_no == card_no.strip().upper()))


def get_person(session: Session, id_number: str) -> Person:
    """The person with this ID number, or NotFound."""
    person = find_person(session, id_number)
    if person is None:
        raise NotFound("未找到该参保人", "no person with this ID number", code="people.not_found")
    return person


def records_of(session: Session, person: Person) -> list[InsuranceRecord]:
    """Every insurance record of a person."""
    return list(
        session.scalars(
            select(InsuranceRecord).where(InsuranceRecord.person_id == person.id).order_by(InsuranceRecord.id)
        )
    )


def record_in(session: Session, person: Person, scheme: Scheme) -> InsuranceRecord | None:
    """A person's record in a scheme, if enrolled."""
    return session.scalar(
        select(InsuranceRecord).where(InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == scheme)
    )


def get_record(session: Session, id_number: str, scheme: Scheme) -> InsuranceRecord:
    """A person's record in a scheme, or NotFound."""
    record = record_in(session, get_person(session, id_number), scheme)
    if record is None:
        raise NotFound("该参保人未参加此险种", "the person is not enrolled in this scheme", code="people.not_enrolled")
    return record


def record_history(session: Session, record: InsuranceRecord) -> list[RecordChange]:
    """Every change of a record, oldest first."""
    return list(
        session.scalars(select(RecordChange).where(RecordChange.record_id == record.id).order_by(RecordChange.id))
    )


def person_with_records(session: Session, person: Person, records: list[InsuranceRecord]) -> PersonOut:
    """A person with these records and their histories, masked unless the caller checks identities."""
    full = sees_full_ids(session)
    return person_out(person, [record_out(r, record_history(session, r), full=full) for r in records], full=full)


def view_person(session: Session, id_number: str) -> PersonOut:
    """A person and every record, for whoever may read them."""
    person, records, _ = require_with_records(session, id_number, READ)
    return person_with_records(session, person, records)
