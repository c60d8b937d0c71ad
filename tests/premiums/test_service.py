"""Premium collection through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import IN_PERIOD, create_employee, create_payment, create_resident, new_id
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.core.ids import mask_id
from yibao.people import persons, records
from yibao.people.models import Scheme, Status
from yibao.premiums import contributions, payments
from yibao.premiums.models import PremiumPayment


def req(idn: str, **over: object) -> payments.PaymentRequest:
    base: dict[str, object] = {
        "insured_id_number": idn,
        "insured_name": "张三",
        "year": 2023,
        "amount": 35000,
        "channel": "banshitong_app",
        "region": "530100",
        "idempotency_key": f"k-{idn}",
    }
    base.update(over)
    return payments.PaymentRequest(**base)  # type: ignore[arg-type]


def count(session: Session, idn: str | None = None) -> int:
    """Payments for one insured person (other tests share the database), or every payment."""
    q = select(func.count()).select_from(PremiumPayment)
    if idn is not None:
        q = q.where(PremiumPayment.insured_id == persons.get_person(session, idn).id)
    return int(session.scalar(q) or 0)


def test_contribution_years_come_from_the_pack() -> None:
    y = contributions.contribution_year(2023)
    assert (y.amount, y.opens, y.closes) == (35000, date(2022, 9, 1), date(2022, 12, 31))
    assert contributions.contribution_year(2022).amount == 32000
    shown = contributions.describe_year(2022)
    assert (shown.amount, shown.collection_opens, shown.collection_closes) == ("320.00", "2021-09-01", "2021-12-31")
    assert "320元" in (shown.amount_source.quote or "") and shown.period_source.assumed
    with pytest.raises(NotFound) as err:
        contributions.contribution_year(2021)
    assert err.value.code == "premium.no_year"


def test_pay_for_oneself_issues_a_receipt(session: Session) -> None:
    idn = create_resident(session)
    r = payments.pay_premium(session, req(idn), now=IN_PERIOD)
    assert r.amount == "350.00" and r.receipt_no.startswith("YB2023530100") and not r.proxy
    assert (r.insured_id_number, r.payer_id_number) == (mask_id(idn), mask_id(idn))
    assert (r.channel_name, r.agency, r.paid_at) == (
        "一部手机办事通",
        "昆明市医疗保障经办机构",
        "2022-10-08T02:00:00+00:00",
    )
    assert payments.get_receipt(session, r.receipt_no) == r
    assert payments.payments_for_insured(session, idn) == [r]


def test_pay_for_someone_else_shows_on_both_sides(session: Session) -> None:
    idn = create_resident(session, name="王奶奶", born=date(1950, 3, 3), sex="F")
    payer = new_id()
    r = create_payment(session, idn, name="王奶奶", channel="tax_bureau_app", payer=(payer, "王小明"))
    assert r.proxy and (r.payer_name, r.payer_id_number) == ("王小明", mask_id(payer))
    assert payments.payments_by_payer(session, payer) == [r]
    assert payments.payments_for_insured(session, idn) == [r]
    assert payments.payments_by_payer(session, idn) == []  # the insured paid nothing for anyone


def test_retry_with_the_same_key_pays_once(session: Session) -> None:
    idn = create_resident(session)
    first = payments.pay_premium(session, req(idn), now=IN_PERIOD)
    again = payments.pay_premium(session, req(idn), now=IN_PERIOD)
    assert again == first and count(session, idn) == 1
    with pytest.raises(Conflict) as err:
        payments.pay_premium(session, req(idn, amount=32000), now=IN_PERIOD)
    assert err.value.code == "idempotency.key_reused" and count(session, idn) == 1


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"region": "530300"}, "premium.wrong_agency"),
        ({"amount": 32000}, "premium.wrong_amount"),
        ({"insured_name": "李四"}, "premium.name_mismatch"),
    ],
)
def test_refusals_with_remedies(session: Session, over: dict[str, object], code: str) -> None:
    idn = create_resident(session)
    with pytest.raises(payments.PremiumRefused) as err:
        payments.pay_premium(session, req(idn, **over), now=IN_PERIOD)
    assert err.value.code == code and err.value.details["remedy"]
    assert count(session, idn) == 0


def test_no_base_registration_gets_the_seed_message(session: Session) -> None:
    before = count(session)
    with pytest.raises(payments.PremiumRefused) as err:
        payments.pay_premium(session, req(new_id()), now=IN_PERIOD)
    assert err.value.code == "premium.no_registration" and count(session) == before
    assert err.value.message_zh == "未查询到缴费人基础信息"
    assert "乡镇（街道）社会保障服务中心" in err.value.details["remedy"]


@pytest.mark.parametrize("when", [datetime(2022, 8, 31, 15, 59, tzinfo=UTC), datetime(2022, 12, 31, 16, 0, tzinfo=UTC)])
def test_outside_the_collection_period(session: Session, when: datetime) -> None:
    idn = create_resident(session)
    with pytest.raises(payments.PremiumRefused) as err:
        payments.pay_premium(session, req(idn), now=when)
    assert err.value.code == "premium.outside_period" and "2022-09-01 至 2022-12-31" in err.value.message_zh
    assert count(session, idn) == 0


def test_period_edges_are_inside(session: Session) -> None:
    a, b = create_resident(session), create_resident(session)
    # Collection days are China's calendar days (UTC+8).
    first = create_payment(session, a, now=datetime(2022, 8, 31, 16, 1, tzinfo=UTC))  # 09-01 00:01 in Kunming
    last = create_payment(session, b, now=datetime(2022, 12, 31, 15, 59, tzinfo=UTC))  # 12-31 23:59
    assert (first.year, first.amount, last.year, last.amount) == (2023, "350.00", 2023, "350.00")
    assert payments.payments_for_insured(session, a) == [first]
    assert payments.payments_for_insured(session, b) == [last]


def test_already_paid_with_another_key(session: Session) -> None:
    idn = create_resident(session)
    paid = create_payment(session, idn)
    with pytest.raises(payments.PremiumRefused) as err:
        payments.pay_premium(session, req(idn, idempotency_key="other", channel="abc_app"), now=IN_PERIOD)
    assert err.value.code == "premium.already_paid"
    assert payments.payments_for_insured(session, idn) == [paid]


def test_terminated_and_pos_rules(session: Session) -> None:
    idn = create_resident(session)
    with pytest.raises(ValidationFailed) as err:
        payments.pay_premium(session, req(idn, channel="collector_pos"), now=IN_PERIOD)
    assert err.value.field == "collector" and count(session, idn) == 0
    r = payments.pay_premium(session, req(idn, channel="collector_pos", collector="村代办员001"), now=IN_PERIOD)
    assert (r.channel, r.channel_name) == ("collector_pos", "POS机")
    other = create_resident(session)
    records.change_status(
        session, id_number=other, scheme=Scheme.RESIDENT, to=Status.TERMINATED, reason="迁出", actor="c"
    )
    with pytest.raises(payments.PremiumRefused) as err2:
        payments.pay_premium(session, req(other), now=IN_PERIOD)
    assert err2.value.code == "premium.not_insured" and count(session, other) == 0


def test_unknown_channel(session: Session) -> None:
    idn = create_resident(session)
    for channel in ("cash_in_envelope", payments.ACCOUNT_CHANNEL):  # the account's channel only from the account
        with pytest.raises(ValidationFailed) as err:
            payments.pay_premium(session, req(idn, channel=channel), now=IN_PERIOD)
        assert err.value.field == "channel"
    assert count(session, idn) == 0


def test_the_account_channel_and_its_name_come_from_the_pack(session: Session) -> None:
    idn = create_resident(session)
    r = payments.pay_premium(session, req(idn, channel=payments.ACCOUNT_CHANNEL), now=IN_PERIOD, from_account=True)
    assert (r.channel, r.channel_name) == ("medical_account", "医保账户支付")
    with pytest.raises(ValidationFailed) as err:  # from the account, only the account's channel
        payments.pay_premium(session, req(create_resident(session)), now=IN_PERIOD, from_account=True)
    assert err.value.field == "channel"


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2021, 10, 1), 2022),  # first day of the Oct-Sep year 2021-10..2022-09
        (date(2022, 9, 30), 2022),  # its last day
        (date(2022, 10, 1), 2023),  # the short year 2022-10..2022-12, paid with the 2023 contribution
        (date(2022, 12, 31), 2023),
        (date(2023, 1, 1), 2023),  # calendar years from 2023
        (date(2023, 12, 31), 2023),
        (date(2024, 1, 1), 2024),
    ],
)
def test_contribution_year_of_a_date_of_service(day: date, year: int) -> None:
    assert contributions.contribution_year_for(day) == year


def _paid_resident(session: Session, year: int) -> str:
    idn = create_resident(session, on=date(2021, 9, 2))
    if year == 2023:
        create_payment(session, idn)
        return idn
    # The pack's channels start in 2022, after the 2022 collection period: store that year's payment as it stands.
    session.add(
        PremiumPayment(
            receipt_no=f"YB2022-{idn}",
            insured_id=persons.get_person(session, idn).id,
            payer_id_number=idn,
            payer_name="张三",
            scheme="resident",
            year=year,
            amount=contributions.contribution_year(year).amount,
            region_code="530100",
            channel="bank_counter",
            idempotency_key=f"y{year}-{idn}",
            request_hash="-",
            paid_at=datetime(2021, 10, 8, 2, 0, tzinfo=UTC),
        )
    )
    session.flush()
    return idn


@pytest.mark.parametrize(
    ("paid", "day", "ok"),
    [
        (2023, date(2023, 6, 1), True),
        (2023, date(2022, 11, 20), True),
        (2023, date(2022, 9, 30), False),  # still the 2022 year: unpaid
        (2023, date(2024, 1, 2), False),
        (2022, date(2022, 3, 1), True),
        (2022, date(2022, 10, 1), False),
    ],
)
def test_benefits_need_the_years_contribution_paid(session: Session, paid: int, day: date, ok: bool) -> None:
    idn = _paid_resident(session, paid)
    person = persons.get_person(session, idn)
    if ok:
        assert contributions.require_paid_contribution(session, person, Scheme.RESIDENT, day) == paid
        return
    with pytest.raises(contributions.ContributionUnpaid) as err:
        contributions.require_paid_contribution(session, person, Scheme.RESIDENT, day)
    year = contributions.contribution_year_for(day)
    assert err.value.code == "benefit.contribution_unpaid" and err.value.details["year"] == year
    assert f"{year} 年度" in err.value.message_zh and str(year) in err.value.message_en


def test_an_unpaid_resident_is_refused_and_an_employee_needs_a_normal_record(session: Session) -> None:
    unpaid = persons.get_person(session, create_resident(session))
    with pytest.raises(contributions.ContributionUnpaid):
        contributions.require_paid_contribution(session, unpaid, Scheme.RESIDENT, date(2023, 3, 1))
    idn = create_employee(session, on=date(2022, 5, 1))
    worker = persons.get_person(session, idn)
    assert contributions.require_paid_contribution(session, worker, Scheme.EMPLOYEE, date(2023, 3, 1)) == 2023
    with pytest.raises(contributions.ContributionUnpaid):  # before the record's benefits start
        contributions.require_paid_contribution(session, worker, Scheme.EMPLOYEE, date(2022, 4, 30))
    with pytest.raises(contributions.ContributionUnpaid):  # an employee record does not pay the resident year
        contributions.require_paid_contribution(session, worker, Scheme.RESIDENT, date(2023, 3, 1))
    records.change_status(session, id_number=idn, scheme=Scheme.EMPLOYEE, to=Status.SUSPENDED, reason="欠费", actor="c")
    with pytest.raises(contributions.ContributionUnpaid) as err:
        contributions.require_paid_contribution(session, worker, Scheme.EMPLOYEE, date(2023, 3, 1))
    assert err.value.details == {"year": 2023, "scheme": "employee", "date_of_service": "2023-03-01"}


def test_one_payers_key_is_not_anothers(session: Session) -> None:
    """Keys belong to the caller: two people who both send key "1" from the same app both pay."""
    from yibao.core.auth import Principal, Role, act_as

    a, b = create_resident(session), create_resident(session)
    receipts = []
    for idn in (a, b):
        act_as(session, Principal(Role.PERSON, idn, "缴费人"))
        receipts.append(payments.pay_premium(session, req(idn, idempotency_key="1"), now=IN_PERIOD))
    assert receipts[0].receipt_no != receipts[1].receipt_no
    assert count(session, a) == count(session, b) == 1
