"""个人账户家庭共济: the holder binds a close relative, who may then use the account; unbinding, the
records either side may see, and the bindings that cross pooling regions (to be ended).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yibao.accounts.access import (
    CROSS_REGION,
    MANAGE,
    READ,
    InsuredAs,
    UseRefused,
    codes,
    counter_clerk,
    employee,
    is_normal,
)
from yibao.accounts.models import BindingStatus, Channel, SharingBinding
from yibao.accounts.schemas import BindingOut, CrossRegionBinding, PersonRef
from yibao.core import auth, clock
from yibao.core.dates import local_date, utc_iso
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.people import persons, relations
from yibao.people.models import InsuranceRecord, Person, Relation, Scheme
from yibao.people.regions import REGIONS
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack, PolicyView


def active_binding(session: Session, holder_id: int, relative_id: int) -> SharingBinding | None:
    """The active binding letting ``relative_id`` use ``holder_id``'s account."""
    return session.scalar(
        select(SharingBinding).where(
            SharingBinding.holder_id == holder_id,
            SharingBinding.relative_id == relative_id,
            SharingBinding.status == BindingStatus.ACTIVE,
        )
    )


def _regions(session: Session, person: Person) -> list[str]:
    return sorted({r.region_code for r in persons.records_of(session, person)})


def same_pooling_region(session: Session, view: PolicyView, record: InsuredAs, relative: Person) -> None:
    """Refuse sharing across pooling regions: the relative must be insured where the holder's account is."""
    rule_ = view.get("employee.account.sharing_region")
    regions = _regions(session, relative)
    if record.region_code in regions:
        return
    there = "、".join(REGIONS.get(r, r) for r in regions) or "无参保记录"
    raise UseRefused(
        f"持卡人在{REGIONS.get(record.region_code, record.region_code)}参保，使用人在{there}参保："
        "不支持跨统筹区的医保个人账户家庭共济",
        f"the holder is insured in {record.region_code}, the user in {', '.join(regions) or 'no region'}: "
        "sharing across pooling regions is not supported",
        code="accounts.cross_region",
        details={"holder_region": record.region_code, "user_regions": regions, "quote": rule_.citation.quote},
    )


def _channel(view: PolicyView, path: str, channel: Channel, zh: str, en: str) -> None:
    """Refuse a channel the pack does not open for this step."""
    open_ = codes(view, path)
    if channel not in open_:
        raise ValidationFailed("channel", f"{zh}渠道应为{'、'.join(open_.values())}之一", f"{en}: unknown channel")


def bind(
    session: Session,
    *,
    holder_id_number: str,
    relative_id_number: str,
    relation: Relation,
    commitment_signed: bool,
    channel: Channel,
    pack: Pack | None = None,
) -> list[BindingOut]:
    """个人账户共济绑定申请: the holder names the user and the relation and signs the commitment.

    Answers the holder's binding records, the new one last.
    """
    view = (pack or get_pack()).at(local_date(clock.now()))
    if not commitment_signed:
        raise ValidationFailed("commitment_signed", "须签署承诺书", "the commitment must be signed")
    _channel(view, "employee.account.binding_channels", channel, "绑定", "binding")
    if relation not in codes(view, "employee.account.close_relatives"):
        raise UseRefused(
            "只能与近亲属绑定共济", "only close relatives can be bound", code="accounts.not_close_relative"
        )
    holder, record = employee(session, holder_id_number, MANAGE, op="bind")
    relative = persons.get_person(session, relative_id_number)
    if relative.id == holder.id:
        raise ValidationFailed("relative_id_number", "不能与本人绑定", "a holder cannot bind themself")
    relative_records = persons.records_of(session, relative)
    # Both insured in Yunnan and in normal status (seed 000: 仅支持云南省内的参保人员绑定).
    if not is_normal(record) or not any(is_normal(r) for r in relative_records):
        raise UseRefused(
            "绑定双方须在云南省内参保且为正常参保状态",
            "both must be insured in Yunnan in normal status",
            code="accounts.not_normal",
        )
    same_pooling_region(session, view, record, relative)
    declared = relations.relation_between(session, holder.id_number, relative.id_number)
    if declared is None:
        relations.declare_relation(
            session, id_number=holder.id_number, relative_id_number=relative.id_number, relation=relation
        )
    elif declared != relation:
        raise ValidationFailed(
            "relation", f"已登记的亲属关系为 {declared.value}", f"the declared relation is {declared.value}"
        )
    if active_binding(session, holder.id, relative.id) is not None:
        raise Conflict("已存在有效的共济绑定", "an active binding already exists", code="accounts.already_bound")
    now = clock.now()
    session.add(
        SharingBinding(
            holder_id=holder.id,
            relative_id=relative.id,
            relation=relation,
            status=BindingStatus.ACTIVE,
            channel=channel,
            commitment_signed_at=now,
            bound_at=now,
        )
    )
    session.flush()
    return bindings_of(session, holder_id_number)


def unbind(
    session: Session,
    *,
    holder_id_number: str,
    relative_id_number: str,
    channel: Channel,
    clerk: str | None = None,
    proof: str | None = None,
    pack: Pack | None = None,
) -> list[BindingOut]:
    """解除绑定: online by the holder, or at the agency with ID and proof of relation (recorded by the clerk).

    Answers the holder's binding records.
    """
    view = (pack or get_pack()).at(local_date(clock.now()))
    holder, _ = persons.require(session, holder_id_number, MANAGE, op="unbind")
    clerk = counter_clerk(session, clerk)
    relative = persons.get_person(session, relative_id_number)
    b = active_binding(session, holder.id, relative.id)
    if b is None:
        raise NotFound("没有有效的共济绑定", "no active binding", code="accounts.no_binding")
    _channel(view, "employee.account.unbinding_channels", channel, "解绑", "unbinding")
    # Seed 000: 线下解绑:携带身份证及关系证明材料到参保地医保经办机构办理解绑.
    if channel == Channel.AGENCY_COUNTER and (not clerk or not proof):
        raise ValidationFailed(
            "proof", "线下解绑须携带身份证及关系证明材料，由经办人员登记", "at the agency: clerk and proof required"
        )
    b.status = BindingStatus.ENDED
    b.unbound_at = clock.now()
    b.unbound_channel = channel
    b.unbound_by = clerk
    b.unbind_proof = proof
    session.flush()
    return bindings_of(session, holder_id_number)


def bindings_of(session: Session, id_number: str) -> list[BindingOut]:
    """Binding and unbinding records, seen by either side (个人账户共济授权记录查询)."""
    person, _ = persons.require(session, id_number, READ, reading="bindings")
    rows = session.scalars(
        select(SharingBinding)
        .where(or_(SharingBinding.holder_id == person.id, SharingBinding.relative_id == person.id))
        .order_by(SharingBinding.id)
    )
    out = []
    for b in rows:
        h, r = session.get(Person, b.holder_id), session.get(Person, b.relative_id)
        assert h is not None and r is not None
        out.append(BindingOut.of(b, h, r))
    return out


def cross_region_bindings(session: Session) -> list[CrossRegionBinding]:
    """Active bindings whose holder and user are insured in different pooling regions (to be ended).

    The province's staff see them all, a region's staff those that touch their region.
    """
    visible = auth.authorize_list(session, CROSS_REGION)
    out = []
    for b in session.scalars(
        select(SharingBinding).where(SharingBinding.status == BindingStatus.ACTIVE).order_by(SharingBinding.id)
    ):
        h, r = session.get(Person, b.holder_id), session.get(Person, b.relative_id)
        assert h is not None and r is not None
        record = session.scalar(
            select(InsuranceRecord).where(InsuranceRecord.person_id == h.id, InsuranceRecord.scheme == Scheme.EMPLOYEE)
        )
        user_regions = _regions(session, r)
        holder_region = record.region_code if record is not None else None
        if holder_region in user_regions or not visible.covers(holder_region, *user_regions):
            continue
        out.append(
            CrossRegionBinding(
                binding_id=b.id,
                holder=PersonRef.of(h),
                user=PersonRef.of(r),
                relation=Relation(b.relation),
                holder_region=holder_region,
                user_regions=user_regions,
                bound_at=utc_iso(b.bound_at),
            )
        )
    return out
