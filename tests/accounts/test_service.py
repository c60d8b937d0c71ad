"""Personal-account use cases on SQLite and PostgreSQL; the ledger verifies after each test."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from tests.factories import create_resident, new_id
from yibao.accounts import ledger, service
from yibao.core.auth import Principal, Role, act_as
from yibao.core.clock import today
from yibao.core.errors import Conflict, ValidationFailed
from yibao.core.money import format_yuan
from yibao.people import service as people
from yibao.people.models import Relation, Scheme, Status
from yibao.policy.loader import get_pack
from yibao.premiums import service as premiums

NOW = datetime(2022, 10, 8, 2, 0, tzinfo=UTC)


def create_employee(session: Session, *, funded: int = 0, born: date = date(1975, 3, 3), name: str = "职工") -> str:
    idn = new_id(born=born)
    people.enrol_employee(session, id_number=idn, name=name, region="530100", on=date(2020, 1, 1), employer="某公司")
    service.open_account(session, id_number=idn)
    if funded:
        service.credit_contribution(
            session, id_number=idn, amount=funded, period="2022-09", source="tax", key=f"c-{idn}"
        )
    return idn


@pytest.fixture(autouse=True)
def _ledger_stays_balanced(session: Session) -> object:
    yield
    v = ledger.verify(session)
    assert v.ok, v.problems


def test_credit_is_idempotent_and_listed(session: Session) -> None:
    idn = create_employee(session)
    a = service.credit_contribution(session, id_number=idn, amount=30_000, period="2022-09", source="tax", key="k")
    b = service.credit_contribution(session, id_number=idn, amount=30_000, period="2022-09", source="tax", key="k")
    assert a == b and service.balance(session, idn)["balance"] == "300.00"
    items = service.statement(session, idn, kind="transfers_in")["items"]
    assert [(i["amount"], i["reference"]) for i in items] == [("300.00", "2022-09")]
    with pytest.raises(ValidationFailed):
        service.credit_contribution(session, id_number=idn, amount=1, period="2022/09", source="tax", key="k2")


def test_usage_scope(session: Session) -> None:
    idn = create_employee(session, funded=100_000)
    service.pay(
        session, service.Payment(idn, 5_000, "designated_pharmacy", "昆明某药店"), source="pharmacy-1", key="p1"
    )
    service.pay(session, service.Payment(idn, 2_000, "teeth_cleaning", "某口腔医院"), source="hospital-1", key="p2")
    for cat in ("fitness", "health_checkup", "daily_use_goods", "wellness"):
        with pytest.raises(service.UseRefused) as err:
            service.pay(session, service.Payment(idn, 100, cat, "x"), source="s", key=f"x-{cat}")
        assert err.value.code == "accounts.excluded_use"
    with pytest.raises(ValidationFailed):
        service.pay(session, service.Payment(idn, 100, "lottery", "x"), source="s", key="lot")
    assert service.balance(session, idn)["balance"] == "930.00"
    spending = service.statement(session, idn, kind="spending", per_page=1)
    assert spending["has_more"] and spending["items"][0]["amount"] == "-20.00"


def test_relatives_need_a_binding(session: Session) -> None:
    holder = create_employee(session, funded=100_000)
    mother = create_resident(session, name="母亲", born=date(1950, 5, 5), sex="F", on=date(2022, 9, 2))
    with pytest.raises(service.UseRefused) as err:
        service.pay(
            session, service.Payment(holder, 1_000, "designated_pharmacy", "药店", mother), source="s", key="r1"
        )
    assert err.value.code == "accounts.no_binding"
    service.bind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel="yunnan_yibao_miniapp",
    )
    service.pay(session, service.Payment(holder, 1_000, "designated_pharmacy", "药店", mother), source="s", key="r2")
    with pytest.raises(service.UseRefused) as err:
        service.pay(
            session, service.Payment(holder, 1_000, "long_term_care_premium", "x", mother), source="s", key="r3"
        )
    assert err.value.code == "accounts.holder_only"
    records = service.bindings_of(session, mother)
    assert records[0]["status"] == "active" and records[0]["relation"] == "parent"
    with pytest.raises(ValidationFailed):
        service.unbind(session, holder_id_number=holder, relative_id_number=mother, channel="agency_counter")
    service.unbind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        channel="agency_counter",
        clerk="经办001",
        proof="户口簿",
    )
    assert service.bindings_of(session, holder)[0]["status"] == "ended"
    with pytest.raises(service.UseRefused):
        service.pay(
            session, service.Payment(holder, 1_000, "designated_pharmacy", "药店", mother), source="s", key="r4"
        )


def test_binding_rules(session: Session) -> None:
    holder = create_employee(session)
    friend = create_resident(session, name="朋友", on=date(2022, 9, 2))
    with pytest.raises(ValidationFailed):
        service.bind(
            session,
            holder_id_number=holder,
            relative_id_number=friend,
            relation=Relation.SIBLING,
            commitment_signed=False,
            channel="banshitong_app",
        )
    people.change_status(
        session, id_number=friend, scheme=Scheme.RESIDENT, to=Status.SUSPENDED, reason="停保", actor="c"
    )
    with pytest.raises(service.UseRefused) as err:
        service.bind(
            session,
            holder_id_number=holder,
            relative_id_number=friend,
            relation=Relation.SIBLING,
            commitment_signed=True,
            channel="banshitong_app",
        )
    assert err.value.code == "accounts.not_normal"


def test_relative_premium_from_the_account(session: Session) -> None:
    holder = create_employee(session, funded=50_000, name="张伟")
    mother = create_resident(session, name="母亲", born=date(1950, 5, 5), sex="F", on=date(2022, 9, 2))
    with pytest.raises(service.UseRefused):
        service.pay_relative_premium(
            session,
            holder_id_number=holder,
            relative_id_number=mother,
            relative_name="母亲",
            year=2023,
            key="k1",
            now=NOW,
        )
    service.bind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel="yunnan_yibao_miniapp",
    )
    receipt = service.pay_relative_premium(
        session, holder_id_number=holder, relative_id_number=mother, relative_name="母亲", year=2023, key="k1", now=NOW
    )
    again = service.pay_relative_premium(
        session, holder_id_number=holder, relative_id_number=mother, relative_name="母亲", year=2023, key="k1", now=NOW
    )
    assert again == receipt and receipt["channel_name"] == "医保账户支付" and receipt["proxy"]
    assert service.balance(session, holder)["balance"] == "150.00"
    assert premiums.payments_for_insured(session, mother)[0]["receipt_no"] == receipt["receipt_no"]
    assert premiums.payments_by_payer(session, holder)[0]["receipt_no"] == receipt["receipt_no"]
    assert service.statement(session, holder, kind="proxy")["items"][0]["amount"] == "-350.00"


def test_relative_premium_refused_when_short_moves_nothing(session: Session) -> None:
    holder = create_employee(session, funded=30_000)
    mother = create_resident(session, name="母亲", born=date(1950, 5, 5), sex="F", on=date(2022, 9, 2))
    service.bind(
        session,
        holder_id_number=holder,
        relative_id_number=mother,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel="yunnan_yibao_miniapp",
    )
    with pytest.raises(ledger.InsufficientBalance):
        service.pay_relative_premium(
            session,
            holder_id_number=holder,
            relative_id_number=mother,
            relative_name="母亲",
            year=2023,
            key="k1",
            now=NOW,
        )
    assert premiums.payments_for_insured(session, mother) == []
    assert service.balance(session, holder)["balance"] == "300.00"


def test_commercial_insurance_only_above_1000(session: Session) -> None:
    holder = create_employee(session, funded=250_000)  # 2,500.00
    child = create_resident(session, name="孩子", born=date(2015, 1, 1), on=date(2022, 9, 2))
    people.declare_relation(session, id_number=holder, relative_id_number=child, relation=Relation.CHILD)
    with pytest.raises(service.UseRefused) as err:
        service.buy_insurance(
            session, holder_id_number=holder, insured_id_number=child, product="jirui_ankang", shares=1, now=NOW
        )
    assert err.value.code == "accounts.wrong_product"
    # 2,500.00 - 1,800.00 = 700.00 < 1,000.00: refused
    with pytest.raises(ledger.InsufficientBalance):
        service.buy_insurance(
            session, holder_id_number=holder, insured_id_number=child, product="baobao_ankang", shares=1, now=NOW
        )
    # 3 x 500.00 = 1,500.00 leaves exactly 1,000.00: allowed
    policy = service.buy_insurance(
        session, holder_id_number=holder, insured_id_number=holder, product="jirui_ankang", shares=3, now=NOW
    )
    assert service.balance(session, holder)["balance"] == "1000.00"
    with pytest.raises(ledger.InsufficientBalance):
        service.pay_insurance_year(session, policy_id=policy.id, now=NOW.replace(year=2023))
    service.credit_contribution(session, id_number=holder, amount=150_000, period="2023-09", source="tax", key="c2")
    service.pay_insurance_year(session, policy_id=policy.id, now=NOW.replace(year=2023))
    with pytest.raises(Conflict):
        service.mature_insurance(session, policy_id=policy.id, now=NOW.replace(year=2024))
    service.mature_insurance(session, policy_id=policy.id, now=NOW.replace(year=2032))
    # premiums 3,000.00 x 110% = 3,300.00 back: 1,000.00 + 3,300.00
    assert service.balance(session, holder)["balance"] == "4300.00"


def test_insurance_only_for_direct_relatives(session: Session) -> None:
    holder = create_employee(session, funded=500_000)
    brother = create_resident(session, name="兄弟", born=date(1980, 1, 1), on=date(2022, 9, 2))
    people.declare_relation(session, id_number=holder, relative_id_number=brother, relation=Relation.SIBLING)
    with pytest.raises(service.UseRefused) as err:
        service.buy_insurance(
            session, holder_id_number=holder, insured_id_number=brother, product="jirui_ankang", shares=1, now=NOW
        )
    assert err.value.code == "accounts.not_direct_relative"


def test_withdrawal_cases(session: Session) -> None:
    holder = create_employee(session, funded=80_000)
    with pytest.raises(service.UseRefused):
        service.apply_withdrawal(session, holder_id_number=holder, case="buy_a_car", documents=[])
    with pytest.raises(ValidationFailed):
        service.apply_withdrawal(session, holder_id_number=holder, case="settle_abroad", documents=["身份证"])
    req = service.apply_withdrawal(
        session, holder_id_number=holder, case="settle_abroad", documents=["身份证", "出国定居证明"]
    )
    done = service.decide_withdrawal(session, request_id=req.id, approve=True, clerk="经办002", note="材料齐全")
    assert done.amount == 80_000
    assert service.balance(session, holder) == {
        **service.balance(session, holder),
        "balance": "0.00",
        "status": "closed",
    }
    # The account is closed: nothing more can be paid from it, nor flow into it.
    with pytest.raises(ledger.AccountClosed):
        service.pay(session, service.Payment(holder, 1, "designated_pharmacy", "药店"), source="s", key="closed")
    with pytest.raises(ledger.AccountClosed):
        service.credit_contribution(session, id_number=holder, amount=100, period="2023-06", source="tax", key="late")


def test_withdrawal_waits_for_pending_holds(session: Session) -> None:
    holder = create_employee(session, funded=50_000)
    pid = people.get_person(session, holder).id
    h = ledger.hold(session, member_id=pid, amount=10_000)
    req = service.apply_withdrawal(
        session, holder_id_number=holder, case="settle_abroad", documents=["身份证", "出国定居证明"]
    )
    with pytest.raises(Conflict) as err, session.begin_nested():
        service.decide_withdrawal(session, request_id=req.id, approve=True, clerk="经办002", note="材料齐全")
    assert err.value.code == "accounts.holds_pending"
    ledger.post_hold(session, h.id)
    done = service.decide_withdrawal(session, request_id=req.id, approve=True, clerk="经办002", note="材料齐全")
    assert done.amount == 40_000


def test_death_pays_the_heir(session: Session) -> None:
    holder = create_employee(session, funded=60_000, name="逝者")
    heir = create_employee(session, name="继承人")
    with pytest.raises(ValidationFailed):
        service.apply_withdrawal(session, holder_id_number=holder, case="death", documents=["死亡证明", "继承关系证明"])
    req = service.apply_withdrawal(
        session, holder_id_number=holder, case="death", documents=["死亡证明", "继承关系证明"], heir_id_number=heir
    )
    service.decide_withdrawal(session, request_id=req.id, approve=True, clerk="经办003", note="继承")
    assert service.balance(session, heir)["balance"] == "600.00"


def _month(d: date, back: int = 0) -> str:
    m = d.year * 12 + d.month - 1 - back
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


@pytest.mark.parametrize("period", ["0000-01", "0001-01", "9999-12", "2000-01", "next-month"])
def test_credit_periods_within_bounds(session: Session, period: str) -> None:
    idn = create_employee(session)
    if period == "next-month":
        period = _month(today(), back=-1)
    with pytest.raises(ValidationFailed) as err:
        service.credit_contribution(session, id_number=idn, amount=100, period=period, source="tax", key="p")
    assert err.value.field == "period"
    assert service.statement(session, idn)["items"] == []


def test_staff_credit_periods_within_the_window(session: Session) -> None:
    idn = create_employee(session)
    months = get_pack().at(today()).get("employee.account.credit_period_months_back").value
    act_as(session, Principal(Role.FINANCE, "km.finance", "财务", region="530100"))
    for i, period in enumerate((_month(today()), _month(today(), months))):
        service.credit_contribution(session, id_number=idn, amount=100, period=period, source="tax", key=f"ok{i}")
    with pytest.raises(ValidationFailed) as err:
        service.credit_contribution(
            session, id_number=idn, amount=100, period=_month(today(), months + 1), source="tax", key="old"
        )
    assert err.value.field == "period"


def test_single_amount_limits(session: Session) -> None:
    view = get_pack().at(today())
    most_in, most_out = (view.get(f"employee.account.max_single_{k}").value for k in ("credit", "payment"))
    idn = create_employee(session, funded=most_in)
    for amount in (most_in + 1, 9_999_999_999_999_999):
        with pytest.raises(ValidationFailed) as err:
            service.credit_contribution(session, id_number=idn, amount=amount, period="2022-09", source="t", key="x")
        assert err.value.field == "amount"
    with pytest.raises(ValidationFailed) as err:
        service.pay(session, service.Payment(idn, most_out + 1, "designated_pharmacy", "药店"), source="his", key="y")
    assert err.value.field == "amount"
    assert service.balance(session, idn)["balance"] == format_yuan(most_in)


def _bind_parent(session: Session, holder: str, parent: str) -> None:
    service.bind(
        session,
        holder_id_number=holder,
        relative_id_number=parent,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel="yunnan_yibao_miniapp",
    )


@pytest.mark.parametrize(("funded", "paid"), [(35_000, False), (35_001, True)])
def test_relative_premium_needs_a_balance_greater_than_the_premium(session: Session, funded: int, paid: bool) -> None:
    # Seed 000: 余额应大于城乡居民医保个人缴费金额,否则缴费将失败 — a balance equal to the 350.00 premium fails.
    holder = create_employee(session, funded=funded)
    mother = create_resident(session, name="母亲", born=date(1950, 5, 5), sex="F", on=date(2022, 9, 2))
    _bind_parent(session, holder, mother)

    def pay() -> None:
        service.pay_relative_premium(
            session,
            holder_id_number=holder,
            relative_id_number=mother,
            relative_name="母亲",
            year=2023,
            key="k",
            now=NOW,
        )

    if paid:
        pay()
        assert service.balance(session, holder)["balance"] == "0.01"
        return
    with pytest.raises(ledger.InsufficientBalance) as err:
        pay()
    assert "应大于" in err.value.message_zh
    assert premiums.payments_for_insured(session, mother) == []
    assert service.balance(session, holder)["balance"] == "350.00"


def test_binding_only_within_one_pooling_region(session: Session) -> None:
    holder = create_employee(session, funded=100_000)  # Kunming, 530100
    dali = create_resident(session, name="大理母亲", region="532900", born=date(1950, 5, 5), sex="F")
    with pytest.raises(service.UseRefused) as err:
        _bind_parent(session, holder, dali)
    assert err.value.code == "accounts.cross_region"
    assert "不支持跨统筹区" in err.value.message_zh
    assert service.bindings_of(session, holder) == []
    assert people.relation_between(session, holder, dali) is None  # nothing half-written
    kunming = create_resident(session, name="昆明父亲", born=date(1948, 5, 5))
    _bind_parent(session, holder, kunming)
    assert service.cross_region_bindings(session) == []
    # The father moves to Dali: the binding is now across regions; it is listed and cannot be used.
    people.move_agency(session, id_number=kunming, scheme=Scheme.RESIDENT, region="532900", reason="迁居", actor="c")
    listed = service.cross_region_bindings(session)
    assert [(b["holder_region"], b["user_regions"]) for b in listed] == [("530100", ["532900"])]
    with pytest.raises(service.UseRefused) as err:
        service.pay(
            session, service.Payment(holder, 1_000, "designated_pharmacy", "药店", kunming), source="s", key="x1"
        )
    assert err.value.code == "accounts.cross_region"


@pytest.mark.parametrize("category", ["critical_illness_supplement_premium", "flexible_worker_premium"])
def test_holder_premiums_from_the_2011_notice(session: Session, category: str) -> None:
    flexible = new_id(born=date(1985, 1, 1))
    people.enrol_employee(
        session, id_number=flexible, name="灵活", region="530100", on=date(2020, 1, 1), employer=None, flexible=True
    )
    service.credit_contribution(session, id_number=flexible, amount=50_000, period="2022-09", source="t", key="c")
    service.pay(session, service.Payment(flexible, 20_000, category, "昆明市医保局"), source="s", key="own")
    assert service.balance(session, flexible)["balance"] == "300.00"
    assert service.statement(session, flexible, kind="spending")["items"][0]["category"] == category
    # Holder only: a bound relative's premium of this kind is refused.
    mother = create_resident(session, name="母亲", born=date(1950, 5, 5), sex="F")
    _bind_parent(session, flexible, mother)
    with pytest.raises(service.UseRefused) as err:
        service.pay(session, service.Payment(flexible, 100, category, "x", mother), source="s", key="rel")
    assert err.value.code == "accounts.holder_only"


def test_flexible_worker_premium_needs_a_flexible_worker(session: Session) -> None:
    employee = create_employee(session, funded=50_000)
    with pytest.raises(service.UseRefused) as err:
        service.pay(session, service.Payment(employee, 100, "flexible_worker_premium", "x"), source="s", key="f")
    assert err.value.code == "accounts.not_flexible_worker"


def test_vaccination_stays_excluded(session: Session) -> None:
    # The 2011 notice lets relatives' vaccination be paid; seed 000 forbids public-health costs.
    holder = create_employee(session, funded=50_000)
    child = create_resident(session, name="孩子", born=date(2015, 1, 1))
    service.bind(
        session,
        holder_id_number=holder,
        relative_id_number=child,
        relation=Relation.CHILD,
        commitment_signed=True,
        channel="yunnan_yibao_miniapp",
    )
    for who, key in ((child, "v1"), (None, "v2")):
        with pytest.raises(service.UseRefused) as err:
            service.pay(session, service.Payment(holder, 100, "vaccination", "社区医院", who), source="s", key=key)
        assert err.value.code == "accounts.excluded_use"
    assert service.balance(session, holder)["balance"] == "500.00"


def test_record_filters_use_china_days(session: Session) -> None:
    from yibao.core import clock

    idn = create_employee(session)
    # 00:30 on 2023-01-01 in Kunming is still 2022-12-31 in UTC: the record belongs to New Year's Day.
    with clock.use(clock.FixedClock(datetime(2022, 12, 31, 16, 30, tzinfo=UTC))):
        service.credit_contribution(session, id_number=idn, amount=100, period="2022-12", source="t", key="ny")
    on_new_year = service.statement(session, idn, start=date(2023, 1, 1), end=date(2023, 1, 1))["items"]
    assert [i["amount"] for i in on_new_year] == ["1.00"]
    assert service.statement(session, idn, start=date(2022, 12, 31), end=date(2022, 12, 31))["items"] == []
