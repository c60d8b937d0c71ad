"""Enrolment (参保登记): residents, students, newborns and employees.

Each use case checks everything before it writes, and answers with the person and the new record.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import Role, Scope, Subject, rule
from yibao.core.clock import today
from yibao.core.errors import Conflict, Forbidden, ValidationFailed
from yibao.core.ids import IdNumber, parse_id_number
from yibao.core.text import ascii_digits, clean_name
from yibao.engine.claims import Group
from yibao.people.models import ChangeKind, InsuranceRecord, Person, RegistrationChannel, Scheme, Status
from yibao.people.persons import acting_login, find_person, person_with_records, record_in
from yibao.people.records import log_change
from yibao.people.regions import check_region, region_named
from yibao.people.schemas import PersonOut
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

BACKDATE_DAYS = "enrolment.backdate_days"
STUDENT_SCHOOLS = "enrolment.student_schools"
STUDENT_REGION = "enrolment.student_region"

REGISTER = rule(
    "people.register",
    "城乡居民、学生、新生儿参保登记 / register residents, students, newborns",
    writes=True,
    person=Scope.ANY,  # for oneself or, recorded as the registrant, for someone else
    clerk=Scope.REGION,
)
ENROL_EMPLOYEE = rule("people.enrol_employee", "职工医保参保 / enrol an employee", writes=True, clerk=Scope.REGION)


def _enrolling(session: Session, action: str, id_number: str, region: str) -> auth.Principal:
    """Authorise enrolling someone (who may not exist yet) in a region."""
    return auth.authorize(session, action, Subject(id_number=id_number, regions=frozenset({region})), region=region)


def _registrant(session: Session, region: str, id_number: str, on_behalf_by: str | None) -> str | None:
    """Authorise a registration; a person registering someone else is recorded as the registrant."""
    p = _enrolling(session, REGISTER, id_number, region)
    if p.role is Role.PERSON and id_number != p.login:
        if on_behalf_by not in (None, p.login):
            raise Forbidden("只能以本人身份代办登记", "you can register others only as yourself", code="auth.forbidden")
        return p.login
    return on_behalf_by


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


def _name(name: str) -> str:
    return clean_name(name, field="name")


def _phone(phone: str | None) -> str | None:
    if phone is None or phone == "":
        return None
    if not re.fullmatch(r"1[0-9]{10}", ascii_digits(phone, field="phone")):
        raise ValidationFailed("phone", "手机号应为以1开头的11位数字", "a mobile number has 11 digits starting with 1")
    return phone


def _check(*, region: str, name: str, phone: str | None = None) -> None:
    """Validate everything of an enrolment before anything is written."""
    check_region(region)
    _name(name)
    _phone(phone)


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


def _enrol(
    session: Session,
    person: Person,
    *,
    scheme: Scheme,
    region: str,
    group: Group,
    on: date,
    channel: RegistrationChannel,
    registered_by: str | None,
    actor: str,
    employer: str | None = None,
    flexible: bool = False,
    school: str | None = None,
) -> PersonOut:
    """Write the new record (cover from the enrolment day) and answer with the person and that record."""
    if record_in(session, person, scheme) is not None:
        raise Conflict(
            "该参保人已有此险种的参保记录",
            "the person is already enrolled in this scheme",
            code="people.already_enrolled",
        )
    record = InsuranceRecord(
        person_id=person.id,
        scheme=scheme,
        status=Status.NORMAL,
        region_code=region,
        population_group=group,
        employer=employer,
        flexible=flexible,
        school=school,
        enrolled_on=on,
        benefits_from=on,
        registered_by=registered_by,
        channel=channel,
        created_at=clock.now(),
    )
    session.add(record)
    session.flush()
    log_change(session, record, ChangeKind.ENROL, None, Status.NORMAL, "参保登记", actor)
    return person_with_records(session, person, [record])


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
) -> PersonOut:
    """城乡居民医保参保登记, for oneself or on someone's behalf (代办: whoever did it is recorded)."""
    idn = parse_id_number(id_number)
    _check(region=region, name=name, phone=phone)
    on = effective_date(session, on)
    if on_behalf_by is not None:
        on_behalf_by = parse_id_number(on_behalf_by, field="on_behalf_by").value
    on_behalf_by = _registrant(session, region, idn.value, on_behalf_by)
    person = _upsert_person(session, idn, name=name, sex=sex, birth_date=birth_date, phone=phone)
    return _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region=region,
        group=Group.GENERAL,
        on=on,
        channel=RegistrationChannel.BANSHITONG_APP,
        registered_by=on_behalf_by,
        actor=on_behalf_by or idn.value,
    )


def register_student(
    session: Session,
    *,
    id_number: str,
    name: str,
    school: str,
    commitment_accepted: bool,
    on: date,
    phone: str | None = None,
    pack: Pack | None = None,
) -> PersonOut:
    """省属在昆高校大学生医保参保: choose the school and accept the commitment (参保承诺书)."""
    if not commitment_accepted:
        raise ValidationFailed(
            "commitment_accepted", "须阅读并同意《参保承诺书》", "the enrolment commitment must be accepted"
        )
    pack = pack or get_pack()
    offered = pack.at(today())  # the schools and the region the app offers now
    if school not in {s.name for s in offered.items(STUDENT_SCHOOLS)}:
        raise ValidationFailed("school", "请选择省属在昆高校", "choose one of the provincial universities in Kunming")
    # The universities are in Kunming (在昆): their students are insured there.
    region = region_named(offered.items(STUDENT_REGION)[0].name)
    idn = parse_id_number(id_number)
    _check(region=region, name=name, phone=phone)
    on = effective_date(session, on, pack=pack)
    registrant = _registrant(session, region, idn.value, None)
    person = _upsert_person(session, idn, name=name, sex=None, birth_date=None, phone=phone)
    return _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region=region,
        group=Group.STUDENT_CHILD,
        on=on,
        channel=RegistrationChannel.BANSHITONG_APP,
        registered_by=registrant,
        actor=registrant or idn.value,
        school=school,
    )


def register_newborn(
    session: Session,
    *,
    id_number: str,
    name: str,
    guardian_id_number: str,
    region: str,
    on: date,
    pack: Pack | None = None,
) -> PersonOut:
    """新生儿参保: cover starts at registration.

    Only the stays of a newborn with a congenital disease registered within three months of birth are
    covered from birth (policy.md, Newborns); the benefit engine decides that per claim (``congenital``)
    from the birth and registration dates, so the record's ``benefits_from`` is the registration day.
    """
    idn = parse_id_number(id_number)
    _check(region=region, name=name)
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
    return _enrol(
        session,
        person,
        scheme=Scheme.RESIDENT,
        region=region,
        group=Group.STUDENT_CHILD,
        on=on,
        channel=RegistrationChannel.BANSHITONG_APP,
        registered_by=guardian.value,
        actor=guardian.value,
    )


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
) -> PersonOut:
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
    _check(region=region, name=name, phone=phone)
    if employer is not None:
        employer = clean_name(employer, field="employer")
    on = effective_date(session, on)
    _enrolling(session, ENROL_EMPLOYEE, idn.value, region)
    person = _upsert_person(session, idn, name=name, sex=None, birth_date=None, phone=phone)
    return _enrol(
        session,
        person,
        scheme=Scheme.EMPLOYEE,
        region=region,
        group=Group.GENERAL,
        on=on,
        channel=RegistrationChannel.AGENCY_COUNTER,
        registered_by=None,
        actor=acting_login(session, actor),
        employer=employer,
        flexible=flexible,
    )
