"""Resident premium payments: for oneself or others, through the pack's channels, with electronic receipts.

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
from yibao.core.ids import mask_id, parse_id_number
from yibao.core.money import format_yuan
from yibao.core.text import clean_name
from yibao.people.models import Person, Scheme, Status
from yibao.people.persons import find_person, record_in, require, subject_of
from yibao.people.regions import REGIONS, agency_name, check_region
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack
from yibao.premiums.contributions import contribution_year
from yibao.premiums.models import PremiumPayment
from yibao.premiums.schemas import Receipt

CHANNELS = "resident.premium.channels"
# 医保账户支付 (seed 000): a relative's premium paid from an employee's personal account. Only the
# accounts module may use it, because the money must leave the account in the same transaction.
ACCOUNT_CHANNELS = "resident.premium.account_channel"
ACCOUNT_CHANNEL = "medical_account"
# 由代收人员通过POS机刷卡缴费 (seed 003): the collector is named and the payer is there.
POS = "collector_pos"

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


def _channels(pack: Pack, on: date, *, from_account: bool = False) -> dict[str, str]:
    """The channels a payment may name on a day (code to name): the account's only from the account."""
    return {i.code: i.name for i in pack.items(ACCOUNT_CHANNELS if from_account else CHANNELS, on)}


def _channel_name(pack: Pack, on: date, code: str) -> str:
    view = pack.at(on)
    for path in (CHANNELS, ACCOUNT_CHANNELS):
        if view.has(path):
            for item in view.items(path):
                if item.code == code:
                    return str(item.name)
    return code  # a channel no longer in the pack: its code


def pay_premium(
    session: Session, req: PaymentRequest, *, now: datetime, pack: Pack | None = None, from_account: bool = False
) -> Receipt:
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
            payment = _new_payment(session, req, fingerprint, now, pack, from_account=from_account)
            with session.begin_nested():
                session.add(payment)
                session.flush()
        except IntegrityError:
            # Another payment of this year (with another key) committed first.
            raise _already_paid(req.year) from None
        return receipt_of(session, payment, pack).model_dump(mode="json")  # stored as the answer to a retry

    # The same key and body again (a retry, even one racing the first) get the first receipt.
    return Receipt.model_validate(idempotency.once(session, space=space, key=req.idempotency_key, body=body, run=run))


def _already_paid(year: int) -> PremiumRefused:
    return PremiumRefused(
        "premium.already_paid",
        f"{year} 年度居民医保费已缴纳，无需重复缴费",
        f"the {year} premium is already paid",
        "可在“一部手机办事通”“我的缴费”中查看缴费记录和电子回执",
        "see the payment record and receipt under 'my payments'",
    )


def _new_payment(
    session: Session, req: PaymentRequest, fingerprint: str, now: datetime, pack: Pack, *, from_account: bool
) -> PremiumPayment:
    now = now.astimezone(UTC)
    channels = _channels(pack, now.date(), from_account=from_account)
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
    record = record_in(session, person, Scheme.RESIDENT) if person is not None else None
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
    if record.status == Status.TERMINATED:
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
            PremiumPayment.scheme == Scheme.RESIDENT,
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
        scheme=Scheme.RESIDENT,
        year=req.year,
        amount=req.amount,
        region_code=record.region_code,
        channel=req.channel,
        collector=req.collector,
        idempotency_key=req.idempotency_key,
        request_hash=fingerprint,
        paid_at=now,
    )


def receipt_of(session: Session, p: PremiumPayment, pack: Pack | None = None) -> Receipt:
    """The electronic receipt (电子缴费凭证) of a payment, ID numbers masked."""
    insured = session.get(Person, p.insured_id)
    assert insured is not None
    return Receipt(
        receipt_no=p.receipt_no,
        year=p.year,
        scheme=Scheme(p.scheme),
        amount=format_yuan(p.amount),
        insured_name=insured.name,
        insured_id_number=mask_id(insured.id_number),
        payer_name=p.payer_name,
        payer_id_number=mask_id(p.payer_id_number),
        proxy=p.payer_id_number != insured.id_number,
        region_code=p.region_code,
        agency=agency_name(p.region_code),
        channel=p.channel,
        channel_name=_channel_name(pack or get_pack(), p.paid_at.date(), p.channel),
        paid_at=utc_iso(p.paid_at),
    )


def get_receipt(session: Session, receipt_no: str) -> Receipt:
    """A receipt by its number, for its payer and whoever may read the insured person's payments."""
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


def payments_for_insured(session: Session, id_number: str) -> list[Receipt]:
    """缴费记录: every payment for the insured person."""
    person, _ = require(session, id_number, READ, reading="payments")
    rows = session.scalars(
        select(PremiumPayment).where(PremiumPayment.insured_id == person.id).order_by(PremiumPayment.paid_at)
    )
    return [receipt_of(session, p) for p in rows]


def payments_by_payer(session: Session, id_number: str) -> list[Receipt]:
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
    return [r for r in (receipt_of(session, p) for p in rows) if r.proxy]
