"""The domain services the portal calls, imported in this one place (modules move; pages do not change)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibao.accounts import balances, insurance, payments, sharing, withdrawals
from yibao.claims import accumulators
from yibao.core.clock import today
from yibao.identity import logins, tokens
from yibao.people import enrolment, persons, relations
from yibao.people import schemas as people_schemas
from yibao.people.models import InsuranceRecord, Person, Relation
from yibao.policy.loader import get_pack
from yibao.premiums import contributions
from yibao.premiums import payments as premiums

__all__ = [
    "accumulators",
    "balances",
    "contributions",
    "enrolment",
    "insurance",
    "logins",
    "payments",
    "people_schemas",
    "person_and_records",
    "persons",
    "premiums",
    "relatives",
    "sharing",
    "student_schools",
    "tokens",
    "withdrawals",
]


def person_and_records(session: Session, id_number: str) -> tuple[Person, list[InsuranceRecord]]:
    """A person and their insurance records, for whoever may read them (the people domain's read rule)."""
    person, records, _ = persons.require_with_records(session, id_number, persons.READ)
    return person, records


def relatives(session: Session, id_number: str) -> list[tuple[Person, Relation]]:
    """A person's declared relatives, for whoever may read the person's records.

    The rows carry full numbers so that the server can find a relative again from the masked number a page
    shows; pages render masked numbers only.
    """
    persons.require(session, id_number, persons.READ, reading="relations")
    return relations.relatives_of(session, id_number)


def student_schools() -> list[str]:
    """The universities whose students the app registers today (the pack's list)."""
    return [s.name for s in get_pack().at(today()).items(enrolment.STUDENT_SCHOOLS)]
