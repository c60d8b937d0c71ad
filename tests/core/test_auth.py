"""Access decisions in core: scopes resolved by the subject's domain, lists authorised by region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from yibao.core import auth
from yibao.core.auth import PROVINCE, Principal, Role, Scope, Subject, Visible, act_as, rule
from yibao.core.errors import Forbidden, Unauthenticated

ITEM = rule(
    "test.item",
    "测试条目 / a test item",
    writes=False,
    person=Scope.BOUND,
    institution=Scope.OWN,
    clerk=Scope.REGION,
)
QUEUE = rule("test.queue", "测试队列 / a test queue", writes=False, clerk=Scope.REGION, service=Scope.ANY)

KM, DALI = "530100", "532900"


def as_(principal: Principal | None) -> Session:
    session = Session()
    if principal is not None:
        act_as(session, principal)
    return session


def clerk(region: str) -> Principal:
    return Principal(Role.CLERK, f"clerk.{region}", "经办", identity_id=1, region=region)


def person(pid: int) -> Principal:
    return Principal(Role.PERSON, f"p{pid}", "某人", identity_id=pid, person_id=pid)


@pytest.fixture
def things() -> Iterator[list[tuple[int, int]]]:
    """A subject kind of this test's own: thing n belongs to person n; pairs in the list are bound."""
    bound: list[tuple[int, int]] = []
    saved = dict(auth._RESOLVERS)
    auth.register_scope_resolver("thing", Scope.OWN, lambda _s, p, subj: p.person_id == subj.person_id)
    auth.register_scope_resolver("thing", Scope.BOUND, lambda _s, p, subj: (p.person_id, subj.person_id) in bound)
    yield bound
    auth._RESOLVERS.clear()
    auth._RESOLVERS.update(saved)


def test_the_subjects_domain_resolves_own_and_bound(things: list[tuple[int, int]]) -> None:
    mine = Subject(person_id=1, kind="thing")
    assert auth.authorize(as_(person(1)), ITEM, mine).person_id == 1
    with pytest.raises(Forbidden):
        auth.authorize(as_(person(2)), ITEM, mine)
    things.append((2, 1))
    assert auth.authorize(as_(person(2)), ITEM, mine).person_id == 2  # bound covers someone else's thing
    with pytest.raises(Forbidden):  # an institution's OWN is its own thing only, never a bound one
        auth.authorize(as_(Principal(Role.INSTITUTION, "H1", "医院", person_id=2)), ITEM, mine)


def test_a_kind_without_resolvers_is_a_wiring_mistake_not_a_silent_denial() -> None:
    with pytest.raises(RuntimeError, match="no scope resolvers for gadget subjects"):
        auth.authorize(as_(person(1)), ITEM, Subject(person_id=1, kind="gadget"))


def test_regions_given_with_the_subject_decide_for_staff_without_asking_any_domain() -> None:
    region_only = Subject(regions=frozenset({KM}), kind="region")
    assert auth.authorize(as_(clerk(KM)), ITEM, region_only).region == KM
    assert auth.authorize(as_(clerk(PROVINCE)), ITEM, region_only).region == PROVINCE
    with pytest.raises(Forbidden):
        auth.authorize(as_(clerk(DALI)), ITEM, region_only)


def test_resolvers_are_registered_once_and_never_for_public_or_any(things: list[tuple[int, int]]) -> None:
    def resolver(_s: Session, _p: Principal, _subj: Subject) -> bool:
        return False

    auth.register_scope_resolver("thing", Scope.REGION, resolver)
    auth.register_scope_resolver("thing", Scope.REGION, resolver)
    assert auth._RESOLVERS["thing", Scope.REGION] == [resolver]
    with pytest.raises(ValueError, match="needs no resolver"):
        auth.register_scope_resolver("thing", Scope.ANY, resolver)


def test_lists_show_staff_their_region_and_the_province_everything() -> None:
    assert auth.authorize_list(as_(clerk(KM)), QUEUE) == Visible(frozenset({KM}))
    assert auth.authorize_list(as_(clerk(PROVINCE)), QUEUE) == Visible(None)
    assert auth.authorize_list(as_(clerk(PROVINCE)), QUEUE, region=DALI) == Visible(frozenset({DALI}))
    assert auth.authorize_list(as_(clerk(KM)), QUEUE, region=KM) == Visible(frozenset({KM}))
    assert auth.authorize_list(as_(auth.system_principal()), QUEUE) == Visible(None)
    service = Principal(Role.SERVICE, "tax", "税务", identity_id=9, region=KM)
    assert auth.authorize_list(as_(service), QUEUE) == Visible(None)  # ANY: everything


def test_lists_refused() -> None:
    with pytest.raises(Forbidden):
        auth.authorize_list(as_(clerk(KM)), QUEUE, region=DALI)  # another region's queue
    with pytest.raises(Forbidden):
        auth.authorize_list(as_(person(1)), QUEUE)  # no role scope for persons
    with pytest.raises(Forbidden):
        auth.authorize_list(as_(person(1)), ITEM)  # BOUND concerns one person, never a list
    with pytest.raises(Unauthenticated):
        auth.authorize_list(as_(None), QUEUE)
    with pytest.raises(Unauthenticated):
        auth.authorize_list(as_(auth.ANONYMOUS), QUEUE)


def test_a_list_decision_is_audited_with_the_region_asked_for() -> None:
    session = as_(clerk(PROVINCE))
    auth.authorize_list(session, QUEUE, region=DALI, reading="queue")
    noted = session.info["audit_pending"]
    assert [(n["action"], n["subject_regions"], n["allowed"]) for n in noted] == [("test.queue", DALI, True)]
    refused = as_(clerk(KM))
    with pytest.raises(Forbidden):
        auth.authorize_list(refused, QUEUE, region=DALI)
    assert [(n["subject_regions"], n["allowed"]) for n in refused.info["audit_pending"]] == [(DALI, False)]


def test_visible_covers() -> None:
    assert Visible(None).covers(None) and Visible(None).covers(KM)
    assert Visible(frozenset({KM})).covers(DALI, KM) and not Visible(frozenset({KM})).covers(DALI, None)


def test_a_session_acting_for_nobody_is_never_the_operator() -> None:
    with pytest.raises(Unauthenticated):
        auth.require_caller(as_(None))
    assert auth.require_caller(as_(clerk(KM))).region == KM
