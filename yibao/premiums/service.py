"""Resident premium collection: contribution years from the pack, payments for oneself or others, receipts.

Seed 003 (缴费 articles) describes the channels and the failures this module refuses with a reason and
a remedy: no base registration (未查询到缴费人基础信息), paying to an agency that is not the current one,
paying outside the collection period, paying twice, paying the wrong amount.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.core import auth, idempotency
from yibao.core.auth import Role, Scope, Subject, rule
from yibao.core.dates import local_date, utc_iso
from yibao.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from yibao.core.ids import parse_id_number
from yibao.core.money import format_yuan
from yibao.core.text import clean_name
from yibao.people.models import InsuranceRecord, Person, Scheme, Status
from yibao.people.regions import REGIONS, agency_name, check_region
from yibao.people.service import find_person, require, subject_of
from yibao.policy.loader import get_pack
from yibao.policy.model import Citation, Pack
from yibao.premiums.models import PremiumPayment

POS = "collector_pos"
# 医保账户支付 (seed 000): a relative's premium paid from an employee's personal account. Only the
# accounts module may use it, because the money must leave the account in the same transaction.
ACCOUNT_CHANNEL = "medical_account"
ACCOUNT_CHANNEL_NAME = "医保账户支付"


PAY = rule(
    "premiums.pay",
    "缴纳居民医保费（含代他人缴费）/ pay a resident premium (also for others)",
    writes=True,
    person=Scope.ANY,  # anyone may pay for anyone (代他人缴费), as themselves
    clerk=Scope.REGION,
    service=Scope.ANY,  # bank and tax collection batches
)
READ = rule(
    "premiums.read",
    "查询缴费记录和电子回执 / read premium payments and receipts",
    writes=False,
    roles=auth.REGION_READERS,
    person=Scope.BOUND,
)
YEARS = auth.public_rule("premiums.years", "年度缴费标准与缴费期 / contribution years")


class PremiumRefused(AppError):
    """A payment the rules refuse; ``details.remedy`` tells the payer what to do."""

    http_status = 422
    exit_code = 5

    def __init__(
        self, code: str, zh: str, en: str, remedy_zh: str, remedy_en: str, *, field: str | None = None
    ) -> None:
        details = {"remedy": remedy_zh, "remedy_en": remedy_en} | ({"field": field} if field else {})
        super().__init__(zh, en, code=code, details=details)


@dataclass(frozen=True, slots=True)
class ContributionYear:
    """The standard amount and the collection period of one contribution year."""

    year: int
    amount: int
    opens: date
    closes: date
    amount_citation: Citation
    period_citation: Citation


def contribution_year(year: int, pack: Pack | None = None) -> ContributionYear:
    """The contribution year's standard (from the policy pack), or NotFound when the pack has none."""
    pack = pack or get_pack()
    start = date(year, 1, 1)
    view = pack.at(start)
    if not view.has("resident.premium.individual"):
        raise NotFound(f"没有 {year} 年度的缴费标准", f"no contribution standard for {year}", code="premium.no_year")
    # Values are keyed by the first day of their contribution year: a value from an earlier year is
    # not this year's standard.
    amount = view.get("resident.premium.individual")
    opens = view.get("resident.premium.collection_opens")
    closes = view.get("resident.premium.collection_closes")
    if amount.start != start or opens.start != start:
        raise NotFound(f"没有 {year} 年度的缴费标准", f"no contribution standard for {year}", code="premium.no_year")
    return ContributionYear(year, amount.money(), opens.day(), closes.day(), amount.citation, opens.citation)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A request to pay one year's resident premium for ``insured_id_number``."""

    insured_id_number: str
    insured_name: str
    year: int
    amount: int  # fen
    channel: str
    region: str  # the agency (pooling region) the payer chose
    idempotency_key: str
    payer_id_number: str | None = None  # someone else paying (代他人缴费); default: the insured
    payer_name: str | None = None
    collector: str | None = None  # collector's ID at a village or community point (POS)

    def body(self) -> dict[str, Any]:
        """Everything but the key: the same key with another body is refused."""
        return {k: v for k, v in asdict(self).items() if k != "idempotency_key"}


def _channels(pack: Pack, on: date) -> dict[str, str]:
    return {i.code: i.name for i in pack.items("resident.premium.channels", on)}


def _channel_names(pack: Pack, on: date) -> dict[str, str]:
    return {**_channels(pack, on), ACCOUNT_CHANNEL: ACCOUNT_CHANNEL_NAME}


def pay_premium(
    session: Session, req: PaymentRequest, *, now: datetime, pack: Pack | None = None, from_account: bool = False
) -> dict[str, Any]:
    """Pay a resident premium; a retry with the same key and body returns the first receipt."""
    pack = pack or get_pack()
    if (req.channel == ACCOUNT_CHANNEL) != from_account:
        raise ValidationFailed(
            "channel",
            "医保账户支付须通过个人账户办理",
            "paying from the personal account goes through the accounts module",
        )
    idempotency.check_key(req.idempotency_key)
    if not from_account:  # from the account, the accounts module has authorised the whole use case
        p = auth.authorize(
            session,
            PAY,
            Subject(id_number=req.insured_id_number.strip().upper(), regions=frozenset({req.region})),
            year=req.year,
            channel=req.channel,
        )
        if p.role is Role.PERSON and (req.payer_id_number or req.insured_id_number).strip().upper() != p.login:
            raise Forbidden("只能以本人身份缴费", "you can pay only as yourself", code="auth.forbidden")
    body = req.body()
    fingerprint = idempotency.request_hash(body)
    space = idempotency.namespace(auth.principal_of(session), "premiums")

    def run() -> dict[str, Any]:
        try:
            payment = _new_payment(session, req, fingerprint, now, pack)
            with session.begin_nested():
                session.add(payment)
                session.flush()
        except IntegrityError:
            # Another payment of this year (with another key) committed first.
            raise _already_paid(req.year) from None
        return receipt_of(session, payment)

    # The same key and body again (a retry, even one racing the first) get the first receipt.
    return idempotency.once(session, space=space, key=req.idempotency_key, body=body, run=run)


def _already_paid(year: int) -> PremiumRefused:
    return PremiumRefused(
        "premium.already_paid",
        f"{year} 年度居民医保费已缴纳，无需重复缴费",
        f"the {year} premium is already paid",
        "可在“一部手机办事通”“我的缴费”中查看缴费记录和电子回执",
        "see the payment record and receipt under 'my payments'",
    )


def _new_payment(session: Session, req: PaymentRequest, fingerprint: str, now: datetime, pack: Pack) -> PremiumPayment:
    now = now.astimezone(UTC)
    channels = _channels(pack, now.date())
    if req.channel == ACCOUNT_CHANNEL:
        channels = _channel_names(pack, now.date())
    if req.channel not in channels:
        raise ValidationFailed(
            "channel", f"缴费渠道应为 {'、'.join(channels)} 之一", f"channel must be one of {list(channels)}"
        )
    if req.channel == POS and not req.collector:
        raise ValidationFailed(
            "collector",
            "代收人员POS机缴费须登记代收人员，且须现场完成缴费",
            "a POS payment names the collector, paid on the spot",
        )
    insured_idn = parse_id_number(req.insured_id_number, field="insured_id_number")
    payer_idn = parse_id_number(req.payer_id_number or insured_idn.value, field="payer_id_number")
    insured_name = clean_name(req.insured_name, field="insured_name")
    if req.payer_name:
        clean_name(req.payer_name, field="payer_name")
    check_region(req.region)
    person = find_person(session, insured_idn.value)
    record = None
    if person is not None:
        record = session.scalar(
            select(InsuranceRecord).where(
                InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == Scheme.RESIDENT.value
            )
        )
    if person is None or record is None:
        raise PremiumRefused(
            "premium.no_registration",
            "未查询到缴费人基础信息",
            "no base registration found for the insured person",
            "请携带本人身份证、户口本到户籍所在地或居住地乡镇（街道）社会保障服务中心核实修正参保登记信息后再缴费",
            "bring the ID card and household register to the township (street) social-security centre to correct "
            "the registration, then pay",
        )
    if person.name != insured_name:
        raise PremiumRefused(
            "premium.name_mismatch",
            "缴费人姓名与身份证号不符",
            "the name does not match the ID number",
            "请核对姓名；如登记信息有误，需到社保经办机构修改信息后再缴费",
            "check the name; if the registration is wrong, have the agency correct it before paying",
        )
    if record.status == Status.TERMINATED.value:
        raise PremiumRefused(
            "premium.not_insured",
            "居民医保参保关系已终止",
            "the resident insurance record is terminated",
            "请先到参保地经办机构办理参保登记",
            "enrol again at the agency first",
        )
    if req.region != record.region_code:
        raise PremiumRefused(
            "premium.wrong_agency",
            f"所选经办机构不是参保人现所在地经办机构（现参保地：{REGIONS[record.region_code]}）",
            f"not the person's current agency (currently {record.region_code})",
            f"在两个及以上经办机构参加过保险的，须选择现所在地经办机构缴费：{agency_name(record.region_code)}",
            f"choose the current agency: {record.region_code}",
        )
    year = contribution_year(req.year, pack)
    today = local_date(now)
    if not (year.opens <= today <= year.closes):
        raise PremiumRefused(
            "premium.outside_period",
            f"{req.year} 年度集中缴费期为 {year.opens} 至 {year.closes}，当前不在缴费期内",
            f"the {req.year} collection period runs {year.opens} to {year.closes}",
            "请在集中缴费期内缴费，或到参保地经办机构咨询",
            "pay within the collection period, or ask the agency",
        )
    paid = session.scalar(
        select(PremiumPayment.id).where(
            PremiumPayment.insured_id == person.id,
            PremiumPayment.scheme == Scheme.RESIDENT.value,
            PremiumPayment.year == req.year,
        )
    )
    if paid is not None:
        raise _already_paid(req.year)
    if req.amount != year.amount:
        raise PremiumRefused(
            "premium.wrong_amount",
            f"缴费金额应为 {format_yuan(year.amount)} 元（{req.year} 年度个人缴费标准）",
            f"the {req.year} premium is {format_yuan(year.amount)} yuan",
            "请按缴费标准缴纳",
            "pay the standard amount",
            field="amount",
        )
    payer_name = (req.payer_name or "").strip() or person.name
    if payer_idn.value != insured_idn.value and not req.payer_name:
        raise ValidationFailed("payer_name", "代他人缴费须填写缴费人姓名", "a proxy payer's name is required")
    return PremiumPayment(
        receipt_no=f"YB{req.year}{record.region_code}{uuid.uuid4().hex[:12].upper()}",
        insured_id=person.id,
        payer_id_number=payer_idn.value,
        payer_name=payer_name,
        scheme=Scheme.RESIDENT.value,
        year=req.year,
        amount=req.amount,
        region_code=record.region_code,
        channel=req.channel,
        collector=req.collector,
        idempotency_key=req.idempotency_key,
        request_hash=fingerprint,
        paid_at=now,
    )


def receipt_of(session: Session, p: PremiumPayment) -> dict[str, Any]:
    """The electronic receipt (电子缴费凭证) of a payment, ID numbers masked."""
    from yibao.core.ids import mask_id

    insured = session.get(Person, p.insured_id)
    assert insured is not None
    channels = _channel_names(get_pack(), p.paid_at.date())
    return {
        "receipt_no": p.receipt_no,
        "year": p.year,
        "scheme": p.scheme,
        "amount": format_yuan(p.amount),
        "insured_name": insured.name,
        "insured_id_number": mask_id(insured.id_number),
        "payer_name": p.payer_name,
        "payer_id_number": mask_id(p.payer_id_number),
        "proxy": p.payer_id_number != insured.id_number,
        "region_code": p.region_code,
        "agency": agency_name(p.region_code),
        "channel": p.channel,
        "channel_name": channels.get(p.channel, p.channel),
        "paid_at": utc_iso(p.paid_at),
    }


def get_receipt(session: Session, receipt_no: str) -> dict[str, Any]:
    """A receipt by its number."""
    p = session.scalar(select(PremiumPayment).where(PremiumPayment.receipt_no == receipt_no))
    if p is None:
        raise NotFound("未找到该电子回执", "no receipt with this number", code="premium.receipt_not_found")
    caller = auth.principal_of(session)
    if caller is not None and caller.role is Role.PERSON and caller.login == p.payer_id_number:
        subject = Subject(person_id=caller.person_id, id_number=caller.login)  # the payer's own receipt
    else:
        insured = session.get(Person, p.insured_id)
        assert insured is not None
        subject = subject_of(session, insured)
    auth.authorize(session, READ, subject, receipt=receipt_no)
    return receipt_of(session, p)


def payments_for_insured(session: Session, id_number: str) -> list[dict[str, Any]]:
    """缴费记录: every payment for the insured person."""
    person, _ = require(session, id_number, READ, reading="payments")
    rows = session.scalars(
        select(PremiumPayment).where(PremiumPayment.insured_id == person.id).order_by(PremiumPayment.paid_at)
    )
    return [receipt_of(session, p) for p in rows]


def payments_by_payer(session: Session, id_number: str) -> list[dict[str, Any]]:
    """代缴记录: payments someone made for other people."""
    idn = parse_id_number(id_number)
    payer = find_person(session, idn.value)
    auth.authorize(
        session,
        READ,
        subject_of(session, payer) if payer else Subject(id_number=idn.value),
        reading="proxy_payments",
    )  # a payer need not be insured: no person, no error, just no records
    rows = session.scalars(
        select(PremiumPayment).where(PremiumPayment.payer_id_number == idn.value).order_by(PremiumPayment.paid_at)
    )
    return [r for r in (receipt_of(session, p) for p in rows) if r["proxy"]]


# ---- benefits need the year's contribution paid (policy.md: "Ages and who has benefits") ----------


class ContributionUnpaid(AppError):
    """A benefit refused because the person has not paid the contribution of the benefit year."""

    code = "benefit.contribution_unpaid"
    http_status = 422
    exit_code = 5


def contribution_year_for(day: date, pack: Pack | None = None) -> int:
    """The contribution year that pays for the resident benefit year containing ``day``.

    A benefit year is named after the calendar year in which a full year from its first day ends: the
    2022 contribution, collected in autumn 2021, covers 2021-10-01..2022-09-30 (seed 003: 参保缴费后自本年
    10月1日至次年9月30日); the short year 2022-10-01..2022-12-31 and then calendar 2023 are the 2023
    contribution's (a reading, noted in resident.contribution_required).
    """
    from yibao.engine.benefit_year import benefit_year_start

    start = benefit_year_start(day, pack or get_pack())
    return start.year if start.month == 1 else start.year + 1


def require_paid_contribution(
    session: Session, person: Person, scheme: Scheme, date_of_service: date, *, pack: Pack | None = None
) -> int:
    """Refuse a benefit for a person without a paid contribution for the benefit year; returns that year."""
    pack = pack or get_pack()
    view = pack.at(date_of_service)
    if scheme is Scheme.EMPLOYEE:
        view.get("employee.contribution_paid")  # the (assumed) rule must be in force on that day
        year = date_of_service.year
        record = session.scalar(
            select(InsuranceRecord).where(
                InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == Scheme.EMPLOYEE.value
            )
        )
        if record is not None and record.status == Status.NORMAL.value and record.benefits_from <= date_of_service:
            return year
    else:
        view.get("resident.contribution_required")
        year = contribution_year_for(date_of_service, pack)
        paid = session.scalar(
            select(PremiumPayment.id).where(
                PremiumPayment.insured_id == person.id,
                PremiumPayment.scheme == scheme.value,
                PremiumPayment.year == year,
            )
        )
        if paid is not None:
            return year
    label = "职工医保" if scheme is Scheme.EMPLOYEE else "城乡居民医保"
    raise ContributionUnpaid(
        f"未缴纳 {year} 年度{label}费用（服务日期 {date_of_service}），不能享受待遇",
        f"no paid {scheme.value} contribution for the {year} benefit year (date of service {date_of_service})",
        details={"year": year, "scheme": scheme.value, "date_of_service": date_of_service.isoformat()},
    )
