"""The accounts domain's part of access: ``bound`` through sharing bindings, and the cross-region list by region."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts.factories import balance, bind, create_employee, create_relative
from tests.factories import create_resident
from yibao.accounts import sharing
from yibao.core.auth import PROVINCE, Principal, Role, act_as, system_principal
from yibao.core.errors import Forbidden
from yibao.people import records
from yibao.people.models import Person, Scheme

KM, DALI, HONGHE = "530100", "532900", "532500"


def _as_person(session: Session, id_number: str) -> None:
    pid = session.scalar(select(Person.id).where(Person.id_number == id_number))
    act_as(session, Principal(Role.PERSON, id_number, "本人", identity_id=pid, person_id=pid))


def test_a_bound_relative_reads_the_account_and_a_stranger_does_not(session: Session) -> None:
    holder = create_employee(session)
    father = create_relative(session, name="父亲", born=date(1950, 5, 5), sex="M")
    stranger = create_resident(session, name="路人", born=date(1960, 5, 5))
    _as_person(session, father)
    with pytest.raises(Forbidden):
        balance(session, holder)  # not bound yet
    act_as(session, system_principal())
    bind(session, holder, father)
    _as_person(session, father)
    assert balance(session, holder) == "0.00"
    _as_person(session, stranger)
    with pytest.raises(Forbidden):
        balance(session, holder)


def test_cross_region_bindings_are_listed_to_the_staff_of_the_regions_they_touch(session: Session) -> None:
    holder = create_employee(session)
    father = create_relative(session, holder, name="父亲", born=date(1948, 5, 5), sex="M")
    records.move_agency(session, id_number=father, scheme=Scheme.RESIDENT, region=DALI, reason="迁居", actor="c")
    mine = {b.binding_id for b in sharing.cross_region_bindings(session)}
    assert len(mine) == 1

    def listed(region: str, role: Role = Role.CLERK) -> set[int]:
        act_as(session, Principal(role, f"{role}.{region}", "员工", identity_id=1, region=region))
        return {b.binding_id for b in sharing.cross_region_bindings(session)} & mine

    assert listed(PROVINCE) == mine
    assert listed(KM) == mine  # the holder's region
    assert listed(DALI, Role.AUDITOR) == mine  # the relative's region
    assert listed(HONGHE) == set()  # a region the binding does not touch
    with pytest.raises(Forbidden):
        listed(KM, Role.FINANCE)  # finance has no scope on this list
