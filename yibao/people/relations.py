"""Family relations (亲属关系): declared once for a pair, read from either side.

Which relations may be declared is the pack's list of close relatives (近亲属, seed 000), the only
relations any rule uses (account sharing, premiums paid from an account).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yibao.core import clock
from yibao.core.auth import Scope, rule
from yibao.core.clock import today
from yibao.core.errors import Conflict, ValidationFailed
from yibao.people.models import INVERSE, Person, PersonRelation, Relation
from yibao.people.persons import READ, get_person, require
from yibao.people.schemas import RelativeOut, RelativesOut, relative_out
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

CLOSE_RELATIVES = "employee.account.close_relatives"

DECLARE_RELATION = rule(
    "people.relations.declare", "登记亲属关系 / declare a relative", writes=True, person=Scope.OWN, clerk=Scope.REGION
)


def declare_relation(
    session: Session, *, id_number: str, relative_id_number: str, relation: Relation, pack: Pack | None = None
) -> RelativesOut:
    """Declare that the relative is ``relation`` of the person (stored once, readable from both sides)."""
    a, _ = require(session, id_number, DECLARE_RELATION, relation=relation.value)
    close = (pack or get_pack()).at(today()).items(CLOSE_RELATIVES)
    if relation not in {i.code for i in close}:
        raise ValidationFailed(
            "relation",
            f"亲属关系应为近亲属：{'、'.join(i.name for i in close)}",
            f"the relation must be a close relative: {', '.join(i.code for i in close)}",
        )
    b = get_person(session, relative_id_number)
    if a.id == b.id:
        raise ValidationFailed("relative_id_number", "不能与本人建立亲属关系", "a person is not their own relative")
    # Store with the smaller id first, turning the relation around when the pair is swapped.
    person, relative, rel = (a, b, relation) if a.id < b.id else (b, a, INVERSE[relation])
    existing = session.scalar(
        select(PersonRelation).where(PersonRelation.person_id == person.id, PersonRelation.relative_id == relative.id)
    )
    if existing is not None:
        raise Conflict(
            "已登记二人的亲属关系", "a relation between the two is already declared", code="people.relation_exists"
        )
    session.add(PersonRelation(person_id=person.id, relative_id=relative.id, relation=rel, declared_at=clock.now()))
    session.flush()
    return RelativesOut(relatives=[relative_out(p, r) for p, r in relatives_of(session, a.id_number)])


def list_relatives(session: Session, id_number: str) -> list[RelativeOut]:
    """A person's declared relatives, for whoever may read the person's records."""
    require(session, id_number, READ, reading="relations")
    return [relative_out(p, r) for p, r in relatives_of(session, id_number)]


def relatives_of(session: Session, id_number: str) -> list[tuple[Person, Relation]]:
    """Each declared relative of a person and what they are to the person."""
    me = get_person(session, id_number)
    rows = session.scalars(
        select(PersonRelation)
        .where(or_(PersonRelation.person_id == me.id, PersonRelation.relative_id == me.id))
        .order_by(PersonRelation.id)
    )
    out: list[tuple[Person, Relation]] = []
    for r in rows:
        if r.person_id == me.id:
            other_id, rel = r.relative_id, Relation(r.relation)
        else:
            other_id, rel = r.person_id, INVERSE[Relation(r.relation)]
        other = session.get(Person, other_id)
        assert other is not None
        out.append((other, rel))
    return out


def relation_between(session: Session, id_number: str, relative_id_number: str) -> Relation | None:
    """What ``relative_id_number`` is to ``id_number``, if declared."""
    for other, rel in relatives_of(session, id_number):
        if other.id_number == relative_id_number.strip().upper():
            return rel
    return None
