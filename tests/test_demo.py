"""The demo population: deterministic, realistic, created once, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibao import demo
from yibao.people import persons, relations
from yibao.people.models import InsuranceRecord, Relation, Scheme
from yibao.premiums import payments


def test_seed_once(session: Session) -> None:
    ids = demo.seed(session)
    assert len(ids) == sum(len(f[2]) for f in demo.FAMILIES)
    assert demo.seed(session) == {}  # a second run changes nothing
    kinds = {r.scheme for r in session.scalars(select(InsuranceRecord))}
    assert kinds == {"employee", "resident"}
    baby = persons.get_record(session, ids["wang_baby"], Scheme.RESIDENT)
    assert baby.benefits_from.isoformat() == "2022-09-20"  # from registration (congenital stays: from birth)
    assert relations.relation_between(session, ids["zhang_lao"], ids["zhang_wei"]) is Relation.CHILD
    [paid] = payments.payments_for_insured(session, ids["zhang_lao"])
    assert (paid.proxy, paid.amount, paid.channel, paid.channel_name) == (
        True,
        "350.00",
        "medical_account",
        "医保账户支付",
    )
    from yibao.accounts import balances, sharing
    from yibao.accounts.models import BindingStatus

    # 3 x 250.00 credited, 350.00 paid for the father
    assert balances.balance(session, ids["zhang_wei"]).balance == "400.00"
    assert sharing.bindings_of(session, ids["zhang_lao"])[0].status is BindingStatus.ACTIVE
    assert sharing.cross_region_bindings(session) == []  # every demo binding stays in one pooling region
    assert payments.payments_for_insured(session, ids["chen_gang"]) == []
    assert session.scalar(select(func.count()).select_from(InsuranceRecord)) >= len(ids)
