"""Accounts test data: employees with funded accounts, bound relatives, payments, withdrawal applications,
and the deployment's pack with one rule changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import create_resident, new_id
from yibao.accounts import balances, payments, sharing, withdrawals
from yibao.accounts.models import Channel
from yibao.accounts.schemas import BindingOut, EntryOut, WithdrawalOut
from yibao.people import enrolment
from yibao.people.models import Relation
from yibao.policy.loader import get_pack
from yibao.policy.model import ListItem, Pack
from yibao.premiums.schemas import Receipt

# 2022-10-08 10:00 in Kunming: inside the 2023 resident collection period.
NOW = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)

_keys = count(1)


def _key(prefix: str) -> str:
    return f"{prefix}-{next(_keys)}"


def create_employee(
    session: Session,
    *,
    funded: int = 0,
    name: str = "职工",
    born: date = date(1975, 3, 3),
    region: str = "530100",
    flexible: bool = False,
) -> str:
    """An employee of a Kunming company (or a flexible worker) with an open account holding ``funded`` fen."""
    idn = new_id(born=born)
    enrolment.enrol_employee(
        session,
        id_number=idn,
        name=name,
        region=region,
        on=date(2020, 1, 1),
        employer=None if flexible else "某公司",
        flexible=flexible,
    )
    balances.open_account(session, id_number=idn)
    if funded:
        fund(session, idn, funded)
    return idn


def fund(session: Session, id_number: str, amount: int, *, period: str = "2022-09") -> EntryOut:
    """Credit a contribution of ``amount`` fen (a fresh key each time)."""
    return payments.credit_contribution(
        session, id_number=id_number, amount=amount, period=period, source="tax", key=_key("fund")
    )


def bind(session: Session, holder: str, relative: str, relation: Relation = Relation.PARENT) -> list[BindingOut]:
    """Bind ``relative`` to ``holder``'s account online, commitment signed."""
    return sharing.bind(
        session,
        holder_id_number=holder,
        relative_id_number=relative,
        relation=relation,
        commitment_signed=True,
        channel=Channel.YUNNAN_YIBAO_MINIAPP,
    )


def create_relative(
    session: Session,
    holder: str | None = None,
    *,
    relation: Relation = Relation.PARENT,
    name: str = "母亲",
    born: date = date(1950, 5, 5),
    sex: str = "F",
    region: str = "530100",
) -> str:
    """A resident insured since 2022-09-02 and, when ``holder`` is given, bound to the holder's account."""
    relative = create_resident(session, name=name, born=born, sex=sex, region=region, on=date(2022, 9, 2))
    if holder is not None:
        bind(session, holder, relative, relation)
    return relative


def pay(
    session: Session,
    holder: str,
    amount: int,
    category: str = "designated_pharmacy",
    *,
    beneficiary: str | None = None,
    institution: str = "药店",
    key: str | None = None,
) -> EntryOut:
    """A payment from ``holder``'s account (a fresh key unless one is given)."""
    p = payments.Payment(holder, amount, category, institution, beneficiary)
    return payments.pay(session, p, source="pharmacy", key=key or _key("pay"))


def pay_relative_premium(
    session: Session, holder: str, relative: str, *, name: str = "母亲", key: str = "k", now: datetime = NOW
) -> Receipt:
    """The relative's 2023 resident premium from the holder's account."""
    return payments.pay_relative_premium(
        session,
        holder_id_number=holder,
        relative_id_number=relative,
        relative_name=name,
        year=2023,
        key=key,
        now=now,
    )


def balance(session: Session, id_number: str) -> str:
    """The balance as the holder sees it ("1234.56")."""
    return balances.balance(session, id_number).balance


def documents(case: str) -> list[str]:
    """The documents the pack asks for in a withdrawal case, by name."""
    view = get_pack().at(NOW.date())
    return [i.name for i in view.get(f"employee.account.withdrawal_documents.{case}").value]


def apply_withdrawal(
    session: Session, holder: str, case: str = "settle_abroad", *, heir: str | None = None
) -> WithdrawalOut:
    """An application in ``case`` with every document the pack asks for."""
    return withdrawals.apply_withdrawal(
        session, holder_id_number=holder, case=case, documents=documents(case), heir_id_number=heir
    )


def pack_with(path: str, value: Any) -> Pack:
    """The deployment's pack with every dated value of one parameter replaced (a rule the pack decides, changed)."""
    pack = get_pack()
    param = pack.parameter(path)
    changed = replace(param, history=tuple(replace(dv, value=value) for dv in param.history))
    return replace(pack, parameters={**pack.parameters, path: changed})


def items(*pairs: tuple[str, str]) -> tuple[ListItem, ...]:
    """A list parameter's value from (code, name) pairs."""
    return tuple(ListItem(code, name) for code, name in pairs)
