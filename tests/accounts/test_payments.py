"""Money in and out of an account on SQLite and PostgreSQL: credits, the usage scope, relatives' uses and premiums."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from tests.accounts.factories import (
    balance,
    create_employee,
    create_relative,
    fund,
    items,
    pack_with,
    pay,
    pay_relative_premium,
)
from yibao.accounts import balances, ledger, payments, sharing
from yibao.accounts.access import UseRefused
from yibao.accounts.models import Channel
from yibao.core import clock
from yibao.core.auth import Principal, Role, act_as, system_principal
from yibao.core.clock import today
from yibao.core.errors import Forbidden, ValidationFailed
from yibao.core.money import format_yuan
from yibao.people import records
from yibao.people.models import Relation, Scheme, Status
from yibao.policy.loader import get_pack
from yibao.premiums import payments as premiums


def _credit(session: Session, idn: str, amount: int, period: str, key: str) -> object:
    return payments.credit_contribution(session, id_number=idn, amount=amount, period=period, source="tax", key=key)


def test_credit_is_idempotent_and_listed(session: Session) -> None:
    idn = create_employee(session)
    first = _credit(session, idn, 30_000, "2022-09", "k")
    assert _credit(session, idn, 30_000, "2022-09", "k") == first
    assert balance(session, idn) == "300.00"
    items_ = balances.records(session, idn, kind="transfers_in").items
    assert [(i.amount, i.reference, i.kind) for i in items_] == [("300.00", "2022-09", "credit")]
    with pytest.raises(ValidationFailed):
        _credit(session, idn, 1, "2022/09", "k2")


def test_usage_scope(session: Session) -> None:
    idn = create_employee(session, funded=100_000)
    pay(session, idn, 5_000, "designated_pharmacy")
    pay(session, idn, 2_000, "teeth_cleaning")  # the 2011 notice's items
    for cat in ("fitness", "health_checkup", "daily_use_goods", "wellness"):
        with pytest.raises(UseRefused) as err:
            pay(session, idn, 100, cat)
        assert err.value.code == "accounts.excluded_use"
    with pytest.raises(ValidationFailed):
        pay(session, idn, 100, "lottery")
    assert balance(session, idn) == "930.00"
    spending = balances.records(session, idn, kind="spending", per_page=1)
    assert spending.has_more and spending.items[0].amount == "-20.00"


def test_relatives_need_a_binding(session: Session) -> None:
    holder = create_employee(session, funded=100_000)
    mother = create_relative(session)
    with pytest.raises(UseRefused) as err:
        pay(session, holder, 1_000, beneficiary=mother)
    assert err.value.code == "accounts.no_binding"
    sharing.bind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel=Channel.YUNNAN_YIBAO_MINIAPP,
    )
    paid = pay(session, holder, 1_000, beneficiary=mother)
    assert paid.amount == "-10.00" and paid.category == "designated_pharmacy"
    with pytest.raises(UseRefused) as err:
        pay(session, holder, 1_000, "long_term_care_premium", beneficiary=mother)
    assert err.value.code == "accounts.holder_only"
    sharing.unbind(session, holder_id_number=holder, relative_id_number=mother, channel=Channel.BANSHITONG_APP)
    with pytest.raises(UseRefused) as err:
        pay(session, holder, 1_000, beneficiary=mother)
    assert err.value.code == "accounts.no_binding"
    assert balance(session, holder) == "990.00"


def test_what_a_relative_may_use_comes_from_the_pack(session: Session) -> None:
    holder = create_employee(session, funded=100_000)
    mother = create_relative(session, holder)
    pay(session, holder, 500, "teeth_cleaning", beneficiary=mother)  # in the pack's relative_uses
    only_pharmacy = pack_with("employee.account.relative_uses", items(("designated_pharmacy", "定点零售药店")))
    p = payments.Payment(holder, 500, "teeth_cleaning", "口腔医院", mother)
    with pytest.raises(UseRefused) as err:
        payments.pay(session, p, source="s", key="narrow", pack=only_pharmacy)
    assert err.value.code == "accounts.holder_only"
    assert balance(session, holder) == "995.00"


def test_relative_premium_from_the_account(session: Session) -> None:
    holder = create_employee(session, funded=50_000, name="张伟")
    mother = create_relative(session)
    with pytest.raises(UseRefused) as err:
        pay_relative_premium(session, holder, mother, key="k1")
    assert err.value.code == "accounts.no_binding"
    sharing.bind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel=Channel.YUNNAN_YIBAO_MINIAPP,
    )
    receipt = pay_relative_premium(session, holder, mother, key="k1")
    assert pay_relative_premium(session, holder, mother, key="k1") == receipt  # a retry pays nothing more
    assert receipt.channel_name == "医保账户支付" and receipt.proxy and receipt.amount == "350.00"
    assert balance(session, holder) == "150.00"
    assert premiums.payments_for_insured(session, mother)[0].receipt_no == receipt.receipt_no
    assert premiums.payments_by_payer(session, holder)[0].receipt_no == receipt.receipt_no
    proxy = balances.records(session, holder, kind="proxy").items
    assert [(i.amount, i.reference) for i in proxy] == [("-350.00", receipt.receipt_no)]


@pytest.mark.parametrize(("funded", "paid"), [(35_000, False), (35_001, True)])
def test_relative_premium_needs_a_balance_greater_than_the_premium(session: Session, funded: int, paid: bool) -> None:
    # Seed 000: 余额应大于城乡居民医保个人缴费金额,否则缴费将失败 — a balance equal to the 350.00 premium fails.
    holder = create_employee(session, funded=funded)
    mother = create_relative(session, holder)
    if paid:
        pay_relative_premium(session, holder, mother)
        assert balance(session, holder) == "0.01"
        return
    with pytest.raises(ledger.InsufficientBalance) as err:
        pay_relative_premium(session, holder, mother)
    assert "应大于" in err.value.message_zh
    assert premiums.payments_for_insured(session, mother) == []  # refused together with the receipt
    assert balance(session, holder) == "350.00"


def test_relative_premium_refused_when_short_moves_nothing(session: Session) -> None:
    holder = create_employee(session, funded=30_000)
    mother = create_relative(session, holder)
    with pytest.raises(ledger.InsufficientBalance):
        pay_relative_premium(session, holder, mother)
    assert premiums.payments_for_insured(session, mother) == []
    assert balance(session, holder) == "300.00"


def _month(d: date, back: int = 0) -> str:
    m = d.year * 12 + d.month - 1 - back
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


@pytest.mark.parametrize("period", ["0000-01", "0001-01", "9999-12", "2000-01", "next-month"])
def test_credit_periods_within_bounds(session: Session, period: str) -> None:
    idn = create_employee(session)
    if period == "next-month":
        period = _month(today(), back=-1)
    with pytest.raises(ValidationFailed) as err:
        _credit(session, idn, 100, period, "p")
    assert err.value.field == "period"
    assert balances.records(session, idn).items == []


def test_staff_credit_periods_within_the_window(session: Session) -> None:
    idn = create_employee(session)
    months = get_pack().at(today()).get("employee.account.credit_period_months_back").value
    act_as(session, Principal(Role.FINANCE, "km.finance", "财务", region="530100"))
    for i, period in enumerate((_month(today()), _month(today(), months))):
        _credit(session, idn, 100, period, f"ok{i}")
    with pytest.raises(ValidationFailed) as err:
        _credit(session, idn, 100, _month(today(), months + 1), "old")
    assert err.value.field == "period"
    assert balance(session, idn) == "2.00"


def test_single_amount_limits(session: Session) -> None:
    view = get_pack().at(today())
    most_in, most_out = (view.get(f"employee.account.max_single_{k}").value for k in ("credit", "payment"))
    idn = create_employee(session, funded=most_in)
    for amount in (most_in + 1, 9_999_999_999_999_999):
        with pytest.raises(ValidationFailed) as err:
            _credit(session, idn, amount, "2022-09", "x")
        assert err.value.field == "amount"
    with pytest.raises(ValidationFailed) as err:
        pay(session, idn, most_out + 1)
    assert err.value.field == "amount"
    assert balance(session, idn) == format_yuan(most_in)


@pytest.mark.parametrize("category", ["critical_illness_supplement_premium", "flexible_worker_premium"])
def test_holder_premiums_from_the_2011_notice(session: Session, category: str) -> None:
    flexible = create_employee(session, funded=50_000, born=date(1985, 1, 1), flexible=True)
    pay(session, flexible, 20_000, category, institution="昆明市医保局")
    assert balance(session, flexible) == "300.00"
    assert balances.records(session, flexible, kind="spending").items[0].category == category
    # Holder only: a bound relative's premium of this kind is refused.
    mother = create_relative(session, flexible)
    with pytest.raises(UseRefused) as err:
        pay(session, flexible, 100, category, beneficiary=mother)
    assert err.value.code == "accounts.holder_only"


def test_flexible_worker_premium_needs_a_flexible_worker(session: Session) -> None:
    employee = create_employee(session, funded=50_000)
    with pytest.raises(UseRefused) as err:
        pay(session, employee, 100, "flexible_worker_premium")
    assert err.value.code == "accounts.not_flexible_worker"


def test_vaccination_stays_excluded(session: Session) -> None:
    # The 2011 notice lets relatives' vaccination be paid; seed 000 forbids public-health costs.
    holder = create_employee(session, funded=50_000)
    child = create_relative(session, holder, relation=Relation.CHILD, name="孩子", born=date(2015, 1, 1), sex="M")
    for who in (child, None):
        with pytest.raises(UseRefused) as err:
            pay(session, holder, 100, "vaccination", beneficiary=who, institution="社区医院")
        assert err.value.code == "accounts.excluded_use"
    assert balance(session, holder) == "500.00"


def test_record_filters_use_china_days(session: Session) -> None:
    idn = create_employee(session)
    # 00:30 on 2023-01-01 in Kunming is still 2022-12-31 in UTC: the record belongs to New Year's Day.
    with clock.use(clock.FixedClock(datetime(2022, 12, 31, 16, 30, tzinfo=UTC))):
        fund(session, idn, 100, period="2022-12")
    on_new_year = balances.records(session, idn, start=date(2023, 1, 1), end=date(2023, 1, 1)).items
    assert [i.amount for i in on_new_year] == ["1.00"]
    assert balances.records(session, idn, start=date(2022, 12, 31), end=date(2022, 12, 31)).items == []


def test_an_institution_pays_only_in_its_own_name(session: Session) -> None:
    idn = create_employee(session, funded=10_000)
    act_as(session, Principal(Role.INSTITUTION, "H530100001", "昆明某医院", region="530100"))
    with pytest.raises(Forbidden):
        pay(session, idn, 100, institution="别的医院")
    assert pay(session, idn, 100, institution="昆明某医院").reference == "昆明某医院"
    act_as(session, system_principal())
    assert balance(session, idn) == "99.00"


def test_a_suspended_employee_cannot_pay(session: Session) -> None:
    idn = create_employee(session, funded=10_000)
    records.change_status(session, id_number=idn, scheme=Scheme.EMPLOYEE, to=Status.SUSPENDED, reason="停保", actor="c")
    with pytest.raises(UseRefused) as err:
        pay(session, idn, 100)
    assert err.value.code == "accounts.not_normal"
    assert balance(session, idn) == "100.00"
