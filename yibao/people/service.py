"""Enrolment use cases: register residents, students, newborns and employees; relations; status changes.

Services flush and never commit: the entry point (request, CLI command) owns the transaction, so a
refused request leaves nothing half-written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import Role, Scope, Subject, rule
from yibao.core.clock import today
from yibao.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from yibao.core.ids import IdNumber, parse_id_number
from yibao.core.text import ascii_digits, clean_name
from yibao.people.models import (
    INVERSE,
    InsuranceRecord,
    Person,
    PersonRelation,
    RecordChange,
    Relation,
    Scheme,
    Status,
)
from yibao.people.regions import check_region
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

# Provincial universities in Kunming whose students enrol through the 办事通 app (seed 003:
# "省属在昆高校大学生医保参保 ... 选择学校"). Reference data of the deployment, not policy values.
SCHOOLS = (
    "云南大学",
    "昆明理工大学",
    "云南师范大学",
    "云南财经大学",
    "云南民族大学",
    "云南农业大学",
    "昆明医科大学",
    "云南中医药大学",
    "云南艺术学院",
    "西南林业大学",
)

REGISTRATION_CHANNELS = ("banshitong_app", "agency_counter", "batch_import")
BACKDATE_DAYS = "enrolment.backdate_days"


# Who may do what with people's records (see yibao.core.auth).
REGISTER = rule(
    "people.register",
    "城乡居民、学生、新生儿参保登记 / register residents, students, newborns",
    writes=True,
    person=Scope.ANY,  # for oneself or, recorded as the registrant, for someone else
    clerk=Scope.REGION,
)
ENROL_EMPLOYEE = rule("people.enrol_employee", "职工医保参保 / enrol an employee", writes=True, clerk=Scope.REGION)
READ = rule(
    "people.read",
    "查询参保信息 / read a person's records",
    writes=False,
    roles=auth.REGION_READERS,
    person=Scope.BOUND,
)
CHANGE = rule("people.change", "参保状态变更、转移 / change status, move agency", writes=True, clerk=Scope.REGION)
DECLARE_RELATION = rule(
    "people.relations.declare", "登记亲属关系 / declare a relative", writes=True, person=Scope.OWN, clerk=Scope.REGION
)


def subject_of(session: Session, person: Person) -> Subject:
    """A person as the subject of an action: who, and the regions where they are insured."""
    regions = session.scalars(select(InsuranceRecord.region_code).where(InsuranceRecord.person_id == person.id))
    return Subject(person_id=person.id, id_number=person.id_number, regions=frozenset(regions))


def require(session: Session, id_number: str, action: str, **detail: Any) -> tuple[Person, auth.Principal]:
    """The person an action is about, once the caller is allowed to act on them.

    The check comes first: to a caller who could not see the person anyway, an unknown ID number is
    refused exactly like a known one, so that trying numbers reveals nothing.
    """
    person, _, caller = require_with_records(session, id_number, action, **detail)
    return person, caller


_PERSON_WITH_RECORDS = (
    select(Person, InsuranceRecord)
    .outerjoin(InsuranceRecord, InsuranceRecord.person_id == Person.id)
    .where(Person.id_number == bindparam("id_number"))
)


def require_with_records(
    session: Session, id_number: str, action: str, **detail: Any
) -> tuple[Person, list[InsuranceRecord], auth.Principal]:
    """:func:`require`, with the person's insurance records (read in the same query)."""
    idn = parse_id_number(id_number).value  # a malformed number is bad input, whoever asks
    rows = session.execute(_PERSON_WITH_RECORDS, {"id_number": idn}).all()
    person = rows[0][0] if rows else None
    records = [r for _, r in rows if r is not None]
    subject = (
        Subject(person_id=person.id, id_number=person.id_number, regions=frozenset(r.region_code for r in records))
        if person
        else Subject(id_number=idn)
    )
    caller = auth.authorize(session, action, subject, **detail)
    if person is None:
        raise NotFound("未找到该参保人", "no person with this ID number", code="people.not_found")
    return person, records, caller


def _enrolling(session: Session, action: str, id_number: str, region: str) -> auth.Principal:
    """Authorise enrolling someone (who may not exist yet) in a region."""
    return auth.authorize(session, action, Subject(id_number=id_number, regions=frozenset({region})), region=region)


def _registrant(session: Session, region: str, id_number: str, on_behalf_by: str | None, action: str) -> str | None:
    """Authorise a registration; a person registering someone else is recorded as the registrant."""
    p = _enrolling(session, action, id_number, region)
    if p.role is Role.PERSON and id_number != p.login:
        if on_behalf_by not in (None, p.login):
            raise Forbidden("只能以本人身份代办登记", "you can register others only as yourself", code="auth.forbidden")
        return p.login
    return on_behalf_by


def _actor(session: Session, default: str) -> str:
    p = auth.principal_of(session)
    return p.login if p is not None and p.role is not Role.SYSTEM else default


class StatusNotAllowed(AppError):
    """A status change the record's current status does not allow."""

    code = "people.status_not_allowed"
    http_status = 409
    exit_code = 4


@dataclass(frozen=True, slots=True)
class Enrolled:
    """The result of an enrolment: the person and the new record."""

    person: Person
    record: InsuranceRecord


def _name(name: str) -> str:
    return clean_name(name, field="name")


def effective_date(session: Session, on: date, *, pack: Pack | None = None, field: str = "on") -> date:
    """An enrolment's date: a person's is today; staff may backdate it within the pack's window; never ahead.

    The operator at the server's command line (importing history) may go back further, but not before
    the pack's rules begin: a date without rules in force is refused for everyone.
    """
    pack = pack or get_pack()
    now = today()
    if on > now:
        raise ValidationFailed(field, f"登记日期 {on} 不能晚于今天", f"the enrolment date {on} is after today")
    if not pack.at(on).has(BACKDATE_DAYS):
        raise ValidationFailed(
            field,
            f"登记日期 {on} 早于本系统政策参数的起始日期",
            f"the enrolment date {on} is before any policy in force",
        )
    caller = auth.require_caller(session)
    if caller.role is Role.SYSTEM:
        return on
    if caller.role is Role.PERSON:
        if on != now:
            raise ValidationFailed(field, "参保人本人登记的登记日期为当天", "a person's own enrolment is dated today")
        return on
    days = pack.whole(BACKDATE_DAYS, now)
    if on < now - timedelta(days=days):
        raise ValidationFailed(
            field,
            f"登记日期最多可追溯{days}天（{now - timedelta(days=days)} 起）",
            f"an enrolment may be backdated by at most {days} days (from {now - timedelta(days=days)})",
        )
    return on


def _phone(phone: str | None) -> str | None:
    if phone is None or phone == "":
        return None
    if not re.fullmatch(r"1[0-9]{10}", ascii_digits(phone, field="phone")):
        raise ValidationFailed("phone", "手机号应为以1开头的11位数字", "a mobile number has 11 digits starting with 1")
    return phone


def find_person(session: Session, id_number: str) -> Person | None:
    """The person with this ID number, if known."""
    return session.scalar(select(Person).where(Person.id_number == id_number.strip().upper()))


def get_person(session: Session, id_number: str) -> Person:
    """The person with this ID number, or NotFound."""
    person = find_person(session, id_number)
    if person is None:
        raise NotFound("未找到该参保人", "no person with this ID number", code="people.not_found")
    return person


def _upsert_person(
    session: Session, idn: IdNumber, *, name: str, sex: str | None, birth_date: date | None, phone: str | None
) -> Person:
    # The ID number states sex and birth date: anything entered must agree with it.
    if sex is not None and sex != idn.sex:
        raise ValidationFailed("sex", "性别与身份证号不一致", "sex does not match the ID number")
    if birth_date is not None and birth_date != idn.birth_date:
        raise ValidationFailed("birth_date", "出生日期与身份证号不一致", "birth date does not match the ID number")
    person = find_person(session, idn.value)
    if person is None:
        person = Person(
            id_number=idn.value,
            name=_name(name),
            sex=idn.sex,
            birth_date=idn.birth_date,
            phone=_phone(phone),
            created_at=clock.now(),
        )
        session.add(person)
        session.flush()
    elif person.name != _name(name):
        raise ValidationFailed("name", "姓名与已登记的信息不一致", "name differs from the registered person")
    return person


def _record(session: Session, person: Person, scheme: Scheme) -> InsuranceRecord | None:
    return session.scalar(
        select(InsuranceRecord).where(InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == scheme.value)
    )


def _enrol(
    session: Session,
    person: Person,
    *,
    scheme: Scheme,
    region: str,
    group: str,
    on: date,
    benefits_from: date,
    channel: str,
    registered_by: str | None,
    actor: str,
    employer: str | None = None,
    flexible: bool = False,
    school: str | None = None,
) -> InsuranceRecord:
    _check(region=region, channel=channel)
    if _record(session, person, scheme) is not None:
        raise Conflict(
            "该参保人已有此险种的参保记录",
            "the person is already enrolled in this scheme",
            code="people.already_enrolled",
        )
    record = InsuranceRecord(
        person_id=person.id,
        scheme=scheme.value,
        status=Status.NORMAL.value,
        region_code=region,
        population_group=group,
        employer=employer,
        flexible=flexible,
        school=school,
        enrolled_on=on,
        benefits_from=benefits_from,
        registered_by=registered_by,
        channel=channel,
        created_at=clock.now(),
    )
    session.add(record)
    session.flush()
    _log(session, record, "enrol", None, Status.NORMAL.value, "参保登记", actor)
    return record


def _check(*, region: str, channel: str, name: str | None = None, phone: str | None = None) -> None:
    """Validate everything of an enrolment before anything is written."""
    check_region(region)
    if channel not in REGISTRATION_CHANNELS:
        raise ValidationFailed("channel", f"登记渠道应为 {'、'.join(REGISTRATION_CHANNELS)} 之一", "unknown channel")
    if name is not None:
        _name(name)
    _phone(phone)


def _log(
    session: Session, record: InsuranceRecord, kind: str, old: str | None, new: str, reason: str, actor: str
) -> None:
    session.add(
        RecordChange(
            record_id=record.id,
            kind=kind,
            old_value=old,
            new_value=new,
            reason=reason,
            actor=actor,
            changed_at=clock.now(),
        )
    )
    session.flush()


def register_resident(
    session: Session,
    *,
    id_number: str,
    name: str,
    region: str,
    on: date,
    phone: str | None = None,
    sex: str | None = None,
    birth_date: date | None = None,
    on_behalf_by: str | None = None,
    channel: str = "banshitong_app",
) -> Enrolled:
    """城乡居民医保参保登记, for oneself or on someone's behalf (代办: whoever did it is recorded)."""
    idn = parse_id_number(id_number)
    _check(region=region, channel=channel, name=name, phone=phone)
    on = effective_date(session, on)
    if on_behalf_by is not None:
        on_behalf_by = parse_id_number(on_behalf_by, field="on_behalf_by").value
    on_behalf_by = _registrant(session, region, idn.value, on_behalf_by, REGISTER)
    person = _upsert_person(session, idn, name=name, sex=sex, birth_date=birth_date, phone=phone)
    record = _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region=region,
        group="general",
        on=on,
        benefits_from=on,
        channel=channel,
        registered_by=on_behalf_by,
        actor=on_behalf_by or idn.value,
    )
    return Enrolled(person, record)


def register_student(
    session: Session,
    *,
    id_number: str,
    name: str,
    school: str,
    commitment_accepted: bool,
    on: date,
    phone: str | None = None,
) -> Enrolled:
    """省属在昆高校大学生医保参保: choose the school and accept the commitment (参保承诺书)."""
    if not commitment_accepted:
        raise ValidationFailed(
            "commitment_accepted", "须阅读并同意《参保承诺书》", "the enrolment commitment must be accepted"
        )
    if school not in SCHOOLS:
        raise ValidationFailed("school", "请选择省属在昆高校", "choose one of the provincial universities in Kunming")
    idn = parse_id_number(id_number)
    _check(region="530100", channel="banshitong_app", name=name, phone=phone)
    on = effective_date(session, on)
    registrant = _registrant(session, "530100", idn.value, None, REGISTER)
    person = _upsert_person(session, idn, name=name, sex=None, birth_date=None, phone=phone)
    record = _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region="530100",  # the universities are in Kunming
        group="student_child",
        on=on,
        benefits_from=on,
        channel="banshitong_app",
        registered_by=registrant,
        actor=registrant or idn.value,
        school=school,
    )
    return Enrolled(person, record)


def register_newborn(
    session: Session,
    *,
    id_number: str,
    name: str,
    guardian_id_number: str,
    region: str,
    on: date,
    pack: Pack | None = None,
    channel: str = "banshitong_app",
) -> Enrolled:
    """新生儿参保: cover starts at registration.

    Only the stays of a newborn with a congenital disease registered within three months of birth are
    covered from birth (policy.md, Newborns); the benefit engine decides that per claim (``congenital``)
    from the birth and registration dates, so the record's ``benefits_from`` is the registration day.
    """
    idn = parse_id_number(id_number)
    _check(region=region, channel=channel, name=name)
    guardian = parse_id_number(guardian_id_number, field="guardian_id_number")
    p = _enrolling(session, REGISTER, idn.value, region)
    if p.role is Role.PERSON and guardian.value != p.login:
        raise Forbidden("新生儿须由监护人本人登记", "a newborn is registered by the guardian", code="auth.forbidden")
    if on < idn.birth_date:
        raise ValidationFailed("on", "登记日期早于出生日期", "registration date is before the birth date")
    on = effective_date(session, on, pack=pack)
    if guardian.value == idn.value or find_person(session, guardian.value) is None:
        raise ValidationFailed(
            "guardian_id_number",
            "监护人须已登记参保信息（且不是新生儿本人），请先为监护人办理登记",
            "the guardian must be on file (and not the newborn): register the guardian first",
        )
    person = _upsert_person(session, idn, name=name, sex=None, birth_date=None, phone=None)
    record = _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region=region,
        group="student_child",
        on=on,
        benefits_from=on,
        channel=channel,
        registered_by=guardian.value,
        actor=guardian.value,
    )
    return Enrolled(person, record)


def enrol_employee(
    session: Session,
    *,
    id_number: str,
    name: str,
    region: str,
    on: date,
    employer: str | None,
    flexible: bool = False,
    phone: str | None = None,
    actor: str = "agency",
) -> Enrolled:
    """职工医保参保: through an employer, or as a flexible worker paying alone (Social Insurance Law art. 23)."""
    if flexible and employer:
        raise ValidationFailed(
            "employer", "灵活就业人员以个人身份参保，不填单位", "flexible workers enrol without an employer"
        )
    if not flexible and not employer:
        raise ValidationFailed(
            "employer", "职工须由用人单位参保（灵活就业人员除外）", "employees enrol through an employer"
        )
    idn = parse_id_number(id_number)
    _check(region=region, channel="agency_counter", name=name, phone=phone)
    if employer is not None:
        employer = clean_name(employer, field="employer")
    on = effective_date(session, on)
    _enrolling(session, ENROL_EMPLOYEE, idn.value, region)
    actor = _actor(session, actor)
    person = _upsert_person(session, idn, name=name, sex=None, birth_date=None, phone=phone)
    record = _enrol(
        session,
        person,
        scheme=Scheme.EMPLOYEE,
        region=region,
        group="general",
        on=on,
        benefits_from=on,
        channel="agency_counter",
        registered_by=None,
        actor=actor,
        employer=employer,
        flexible=flexible,
    )
    return Enrolled(person, record)


def records_of(session: Session, person: Person) -> list[InsuranceRecord]:
    """Every insurance record of a person."""
    return list(
        session.scalars(
            select(InsuranceRecord).where(InsuranceRecord.person_id == person.id).order_by(InsuranceRecord.id)
        )
    )


def get_record(session: Session, id_number: str, scheme: Scheme) -> InsuranceRecord:
    """A person's record in a scheme, or NotFound."""
    record = _record(session, get_person(session, id_number), scheme)
    if record is None:
        raise NotFound("该参保人未参加此险种", "the person is not enrolled in this scheme", code="people.not_enrolled")
    return record


_ALLOWED = {
    (Status.NORMAL, Status.SUSPENDED),
    (Status.NORMAL, Status.TERMINATED),
    (Status.SUSPENDED, Status.NORMAL),
    (Status.SUSPENDED, Status.TERMINATED),
}


def change_status(
    session: Session, *, id_number: str, scheme: Scheme, to: Status, reason: str, actor: str
) -> InsuranceRecord:
    """Suspend, resume or terminate an insurance record, with the reason kept in its history."""
    if not reason.strip():
        raise ValidationFailed("reason", "须填写原因", "a reason is required")
    require(session, id_number, CHANGE, to=to.value)
    actor = _actor(session, actor)
    record = get_record(session, id_number, scheme)
    old = Status(record.status)
    if (old, to) not in _ALLOWED:
        raise StatusNotAllowed(f"参保状态不能从 {old} 变为 {to}", f"status cannot change from {old} to {to}")
    record.status = to.value
    _log(session, record, "status", old.value, to.value, reason.strip(), actor)
    return record


def move_agency(
    session: Session, *, id_number: str, scheme: Scheme, region: str, reason: str, actor: str
) -> InsuranceRecord:
    """Move a record to another pooling region's agency (参保关系转移)."""
    require(session, id_number, CHANGE, to_region=region)
    actor = _actor(session, actor)
    record = get_record(session, id_number, scheme)
    check_region(region)
    if record.status == Status.TERMINATED.value:
        raise StatusNotAllowed("已终止的参保记录不能转移", "a terminated record cannot move")
    if region == record.region_code:
        raise ValidationFailed("region", "已在该统筹区参保", "already in this pooling region")
    old = record.region_code
    record.region_code = region
    _log(session, record, "move", old, region, reason.strip() or "转移经办机构", actor)
    return record


def record_history(session: Session, record: InsuranceRecord) -> list[RecordChange]:
    """Every change of a record, oldest first."""
    return list(
        session.scalars(select(RecordChange).where(RecordChange.record_id == record.id).order_by(RecordChange.id))
    )


def declare_relation(
    session: Session, *, id_number: str, relative_id_number: str, relation: Relation
) -> PersonRelation:
    """Declare that the relative is ``relation`` of the person (stored once, readable from both sides)."""
    a, _ = require(session, id_number, DECLARE_RELATION, relation=relation.value)
    b = get_person(session, relative_id_number)
    if a.id == b.id:
        raise ValidationFailed("relative_id_number", "不能与本人建立亲属关系", "a person is not their own relative")
    # Store with the smaller id first, turning the relation around when the pair is swapped.
    person, relative, rel = (a, b, relation) if a.id < b.id else (b, a, INVERSE[relation])
    existing = session.scalar(
        select(PersonRelation).where(PersonRelation.person_id == person.id, PersonRelation.relative_id == relative.id)
    )
    if existing is not None:
        raise Conflict(
            "已登记二人的亲属关系", "a relation between the two is already declared", code="people.relation_exists"
        )
    row = PersonRelation(person_id=person.id, relative_id=relative.id, relation=rel.value, declared_at=clock.now())
    session.add(row)
    session.flush()
    return row


def view_person(session: Session, id_number: str) -> tuple[Person, list[InsuranceRecord]]:
    """A person and their records, for whoever may read them."""
    person, _ = require(session, id_number, READ)
    return person, records_of(session, person)


def list_relatives(session: Session, id_number: str) -> list[tuple[Person, Relation]]:
    """A person's declared relatives, for whoever may read the person's records."""
    require(session, id_number, READ, reading="relations")
    return relatives_of(session, id_number)


def relatives_of(session: Session, id_number: str) -> list[tuple[Person, Relation]]:
    """Each declared relative of a person and what they are to the person."""
    me = get_person(session, id_number)
    rows = session.scalars(
        select(PersonRelation).where(or_(PersonRelation.person_id == me.id, PersonRelation.relative_id == me.id))
    )
    out: list[tuple[Person, Relation]] = []
    for r in rows:
        if r.person_id == me.id:
            other_id, rel = r.relative_id, Relation(r.relation)
        else:
            other_id, rel = r.person_id, INVERSE[Relation(r.relation)]
        other = session.get(Person, other_id)
        assert other is not None
        out.append((other, rel))
    return out


def relation_between(session: Session, id_number: str, relative_id_number: str) -> Relation | None:
    """What ``relative_id_number`` is to ``id_number``, if declared."""
    for other, rel in relatives_of(session, id_number):
        if other.id_number == relative_id_number.strip().upper():
            return rel
    return None
