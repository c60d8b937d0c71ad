"""Sharing bindings (共济) on SQLite and PostgreSQL: who may be bound, where, through which channel, and the records."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.accounts.factories import bind, create_employee, create_relative, items, pack_with, pay
from tests.factories import create_resident
from yibao.accounts import sharing
from yibao.accounts.access import UseRefused
from yibao.accounts.models import BindingStatus, Channel
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.people import records, relations
from yibao.people.models import Relation, Scheme, Status


def _bind(session: Session, holder: str, relative: str, **over: object) -> list[object]:
    args: dict[str, object] = {
        "holder_id_number": holder,
        "relative_id_number": relative,
        "relation": Relation.SIBLING,
        "commitment_signed": True,
        "channel": Channel.BANSHITONG_APP,
    }
    return sharing.bind(session, **(args | over))  # type: ignore[arg-type]


def test_binding_rules(session: Session) -> None:
    holder = create_employee(session)
    friend = create_resident(session, name="朋友", on=date(2022, 9, 2))
    with pytest.raises(ValidationFailed) as err:
        _bind(session, holder, friend, commitment_signed=False)
    assert err.value.field == "commitment_signed"
    with pytest.raises(ValidationFailed) as err:
        _bind(session, holder, holder)
    assert err.value.field == "relative_id_number"
    records.change_status(
        session, id_number=friend, scheme=Scheme.RESIDENT, to=Status.SUSPENDED, reason="停保", actor="c"
    )
    with pytest.raises(UseRefused) as err:
        _bind(session, holder, friend)
    assert err.value.code == "accounts.not_normal"
    assert sharing.bindings_of(session, holder) == []


def test_a_binding_declares_the_relation_and_is_seen_by_both_sides(session: Session) -> None:
    holder = create_employee(session, name="张伟")
    mother = create_relative(session)
    records = bind(session, holder, mother)
    assert relations.relation_between(session, holder, mother) is Relation.PARENT
    (record,) = records
    assert (record.holder.name, record.user.name, record.relation, record.status) == (
        "张伟",
        "母亲",
        Relation.PARENT,
        BindingStatus.ACTIVE,
    )
    assert "*" in record.user.id_number and record.unbound_at is None
    assert sharing.bindings_of(session, mother) == records  # 使用人 sees it too
    with pytest.raises(Conflict) as err:
        bind(session, holder, mother)
    assert err.value.code == "accounts.already_bound"
    with pytest.raises(ValidationFailed) as err:
        bind(session, holder, mother, Relation.SPOUSE)  # the declared relation stands
    assert err.value.field == "relation"


def test_only_close_relatives_from_the_pack(session: Session) -> None:
    holder = create_employee(session)
    sister = create_relative(session, name="姐姐", born=date(1972, 1, 1))
    no_siblings = pack_with("employee.account.close_relatives", items(("parent", "父母"), ("child", "子女")))
    with pytest.raises(UseRefused) as err:
        _bind(session, holder, sister, pack=no_siblings)
    assert err.value.code == "accounts.not_close_relative"
    assert _bind(session, holder, sister)[0].relation is Relation.SIBLING  # the real pack lists 兄弟姐妹


def test_unbinding_at_the_counter_needs_clerk_and_proof(session: Session) -> None:
    holder = create_employee(session)
    mother = create_relative(session, holder)
    with pytest.raises(ValidationFailed) as err:
        sharing.unbind(session, holder_id_number=holder, relative_id_number=mother, channel=Channel.AGENCY_COUNTER)
    assert err.value.field == "proof"
    (record,) = sharing.unbind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        channel=Channel.AGENCY_COUNTER,
        clerk="经办001",
        proof="户口簿",
    )
    assert record.status is BindingStatus.ENDED and record.unbound_channel is Channel.AGENCY_COUNTER
    assert record.unbound_at is not None
    with pytest.raises(NotFound) as nf:
        sharing.unbind(session, holder_id_number=holder, relative_id_number=mother, channel=Channel.BANSHITONG_APP)
    assert nf.value.code == "accounts.no_binding"
    # Bound again after the end: a new record next to the old one.
    assert [r.status for r in bind(session, holder, mother)] == [BindingStatus.ENDED, BindingStatus.ACTIVE]


def test_channels_come_from_the_pack(session: Session) -> None:
    holder = create_employee(session)
    mother = create_relative(session)
    online_only = items(("yunnan_yibao_miniapp", "“云南医保”微信小程序"))
    with pytest.raises(ValidationFailed) as err:
        _bind(session, holder, mother, pack=pack_with("employee.account.binding_channels", online_only))
    assert err.value.field == "channel"
    _bind(session, holder, mother, relation=Relation.PARENT, channel=Channel.AGENCY_COUNTER)
    with pytest.raises(ValidationFailed) as err:
        sharing.unbind(
            session,
            holder_id_number=holder,
            relative_id_number=mother,
            channel=Channel.BANSHITONG_APP,
            pack=pack_with("employee.account.unbinding_channels", online_only),
        )
    assert err.value.field == "channel"
    assert sharing.bindings_of(session, holder)[0].status is BindingStatus.ACTIVE


def test_binding_only_within_one_pooling_region(session: Session) -> None:
    holder = create_employee(session, funded=100_000)  # Kunming, 530100
    dali = create_relative(session, name="大理母亲", region="532900")
    with pytest.raises(UseRefused) as err:
        bind(session, holder, dali)
    assert err.value.code == "accounts.cross_region"
    assert "不支持跨统筹区" in err.value.message_zh
    assert sharing.bindings_of(session, holder) == []
    assert relations.relation_between(session, holder, dali) is None  # nothing half-written
    kunming = create_relative(session, holder, name="昆明父亲", born=date(1948, 5, 5), sex="M")
    assert sharing.cross_region_bindings(session) == []
    # The father moves to Dali: the binding is now across regions; it is listed and cannot be used.
    records.move_agency(session, id_number=kunming, scheme=Scheme.RESIDENT, region="532900", reason="迁居", actor="c")
    (listed,) = sharing.cross_region_bindings(session)
    assert (listed.holder_region, listed.user_regions, listed.user.name) == ("530100", ["532900"], "昆明父亲")
    with pytest.raises(UseRefused) as err:
        pay(session, holder, 1_000, beneficiary=kunming)
    assert err.value.code == "accounts.cross_region"
