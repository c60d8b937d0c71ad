"""How scopes resolve for persons: ``own`` is the caller's own person, ``region`` where the person is insured.

Loaded when the application assembles (:mod:`yibao.assembly`); core's access check asks these
resolvers instead of reading the people domain's tables itself.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.core import auth
from yibao.core.auth import Principal, Scope, Subject
from yibao.people.models import InsuranceRecord


def own_person(_session: Session, caller: Principal, subject: Subject) -> bool:
    """The subject is the person the caller logged in as."""
    return caller.person_id is not None and caller.person_id == subject.person_id


def insured_in_caller_region(session: Session, caller: Principal, subject: Subject) -> bool:
    """The person is insured in the caller's pooling region (read from the records when not already known)."""
    if caller.region is None or subject.person_id is None or subject.regions:
        return False  # regions given with the subject were checked already
    found = session.scalar(
        select(InsuranceRecord.id)
        .where(InsuranceRecord.person_id == subject.person_id, InsuranceRecord.region_code == caller.region)
        .limit(1)
    )
    return found is not None


auth.register_scope_resolver("person", Scope.OWN, own_person)
auth.register_scope_resolver("person", Scope.REGION, insured_in_caller_region)
