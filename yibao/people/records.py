"""Changes to insurance records: suspend, resume or terminate (参保状态变更), move agency (参保关系转移).

Every change is kept in the record's history with its reason and who made it.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from yibao.core import clock
from yibao.core.auth import Scope, rule
from yibao.core.errors import AppError, Conflict, ValidationFailed
from yibao.core.text import ascii_digits
from yibao.people.models import ChangeKind, InsuranceRecord, Person, RecordChange, Scheme, Status
from yibao.people.persons import acting_login, find_by_card_no, get_record, person_with_records, records_of, require
from yibao.people.regions import check_region
from yibao.people.schemas import PersonOut

CHANGE = rule("people.change", "参保状态变更、转移 / change status, move agency", writes=True, clerk=Scope.REGION)


class StatusNotAllowed(AppError):
    """A status change the record's current status does not allow."""

    code = "people.status_not_allowed"
    http_status = 409
    exit_code = 4


# Terminated is final: a person enrols again instead.
_ALLOWED = {
    (Status.NORMAL, Status.SUSPENDED),
    (Status.NORMAL, Status.TERMINATED),
    (Status.SUSPENDED, Status.NORMAL),
    (Status.SUSPENDED, Status.TERMINATED),
}


def log_change(
    session: Session, record: InsuranceRecord, kind: ChangeKind, old: str | None, new: str, reason: str, actor: str
) -> None:
    """Add an entry to a record's history."""
    session.add(
        RecordChange(
            record_id=record.id,
            kind=kind,
            old_value=old,
            new_value=new,
            reason=reason,
            actor=actor,
            changed_at=clock.now(),
        )
    )
    session.flush()


def change_status(
    session: Session, *, id_number: str, scheme: Scheme, to: Status, reason: str, actor: str
) -> PersonOut:
    """Suspend, resume or terminate an insurance record, with the reason kept in its history."""
    if not reason.strip():
        raise ValidationFailed("reason", "须填写原因", "a reason is required")
    person, _ = require(session, id_number, CHANGE, to=to.value)
    actor = acting_login(session, actor)
    record = get_record(session, id_number, scheme)
    old = Status(record.status)
    if (old, to) not in _ALLOWED:
        raise StatusNotAllowed(f"参保状态不能从 {old} 变为 {to}", f"status cannot change from {old} to {to}")
    record.status = to
    log_change(session, record, ChangeKind.STATUS, old, to, reason.strip(), actor)
    return person_with_records(session, person, records_of(session, person))


def move_agency(session: Session, *, id_number: str, scheme: Scheme, region: str, reason: str, actor: str) -> PersonOut:
    """Move a record to another pooling region's agency (参保关系转移)."""
    person, _ = require(session, id_number, CHANGE, to_region=region)
    actor = acting_login(session, actor)
    record = get_record(session, id_number, scheme)
    check_region(region)
    if record.status == Status.TERMINATED:
        raise StatusNotAllowed("已终止的参保记录不能转移", "a terminated record cannot move")
    if region == record.region_code:
        raise ValidationFailed("region", "已在该统筹区参保", "already in this pooling region")
    old = record.region_code
    record.region_code = region
    log_change(session, record, ChangeKind.MOVE, old, region, reason.strip() or "转移经办机构", actor)
    return person_with_records(session, person, records_of(session, person))


def record_card(session: Session, *, id_number: str, card_no: str) -> Person:
    """Record the number of a person's social-security card (社会保障卡), as issued to them."""
    card = card_no.strip().upper()
    if not re.fullmatch(r"[0-9A-Z]{6,32}", ascii_digits(card, field="card_no")):
        raise ValidationFailed(
            "card_no", "社会保障卡号为6至32位字母或数字", "a card number has 6 to 32 letters or digits"
        )
    person, _ = require(session, id_number, CHANGE, card=True)
    other = find_by_card_no(session, card)
    if other is not None and other.id != person.id:
        raise Conflict(
            "该社会保障卡号已登记给他人", "this card number is on another person's record", code="people.card_taken"
        )
    person.card_no = card
    session.flush()
    return person
