"""What people and enrolment look like over HTTP and in `--json` output (never the ORM rows)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from yibao.core.dates import utc_iso
from yibao.core.ids import mask_id, mask_phone
from yibao.engine.claims import Group, Sex
from yibao.people.models import (
    ChangeKind,
    InsuranceRecord,
    Person,
    RecordChange,
    RegistrationChannel,
    Relation,
    Scheme,
    Status,
)
from yibao.people.regions import REGIONS, agency_name


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResidentIn(_In):
    """城乡居民参保登记 (for oneself or on someone's behalf)."""

    id_number: str = Field(examples=["530102199001011234"])
    name: str = Field(examples=["张三"])
    region: str = Field(examples=["530100"], description="统筹区代码 / pooling region (GB/T 2260)")
    phone: str | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    on_behalf_by: str | None = Field(default=None, description="代办人身份证号 / who registers on the person's behalf")
    on: date | None = Field(default=None, description="登记日期，默认今天 / registration date")


class StudentIn(_In):
    """省属在昆高校大学生参保."""

    id_number: str
    name: str
    school: str = Field(examples=["云南大学"])
    commitment_accepted: bool
    phone: str | None = None
    on: date | None = None


class NewbornIn(_In):
    """新生儿参保."""

    id_number: str
    name: str
    guardian_id_number: str
    region: str
    on: date | None = None


class EmployeeIn(_In):
    """职工医保参保 (through an employer, or flexible worker)."""

    id_number: str
    name: str
    region: str
    employer: str | None = None
    flexible: bool = False
    phone: str | None = None
    on: date | None = None


class StatusIn(_In):
    """Suspend, resume or terminate."""

    scheme: Scheme
    to: Status
    reason: str = Field(min_length=1, max_length=500)


class MoveIn(_In):
    """Move to another pooling region's agency."""

    scheme: Scheme
    region: str
    reason: str = Field(default="", max_length=500)


class RelationIn(_In):
    """Declare a close relative: the relative is <relation> of the person."""

    relative_id_number: str
    relation: Relation


class ChangeOut(BaseModel):
    """One entry of a record's history."""

    kind: ChangeKind
    old_value: str | None
    new_value: str
    reason: str
    actor: str
    changed_at: str = Field(examples=["2022-09-02T01:30:00+00:00"])


class RecordOut(BaseModel):
    """An insurance record."""

    scheme: Scheme
    status: Status
    region_code: str = Field(examples=["530100"])
    region_name: str = Field(examples=["昆明市"])
    agency: str = Field(examples=["昆明市医疗保障经办机构"])
    population_group: Group
    employer: str | None
    flexible: bool
    school: str | None
    enrolled_on: date
    benefits_from: date
    channel: RegistrationChannel
    registered_by: str | None
    history: list[ChangeOut] = []


class PersonOut(BaseModel):
    """A person; ID number and phone masked except for clerks and appraisers."""

    id_number: str = Field(examples=["530102********1234"])
    name: str
    sex: Sex
    birth_date: date
    phone: str | None = Field(examples=["139****5678"])
    records: list[RecordOut] = []


class RelativeOut(BaseModel):
    """A declared relative, from the person's side (ID number always masked)."""

    id_number: str = Field(examples=["530102********1234"])
    name: str
    relation: Relation


class RelativesOut(BaseModel):
    """A person's relatives once a relation is declared."""

    relatives: list[RelativeOut]


def record_out(r: InsuranceRecord, history: list[RecordChange], *, full: bool = False) -> RecordOut:
    """API form of a record (ID numbers masked unless ``full``: the caller checks identities at the counter)."""
    show = (lambda v: v) if full else mask_id
    return RecordOut(
        scheme=Scheme(r.scheme),
        status=Status(r.status),
        region_code=r.region_code,
        region_name=REGIONS[r.region_code],
        agency=agency_name(r.region_code),
        population_group=Group(r.population_group),
        employer=r.employer,
        flexible=r.flexible,
        school=r.school,
        enrolled_on=r.enrolled_on,
        benefits_from=r.benefits_from,
        channel=RegistrationChannel(r.channel),
        registered_by=show(r.registered_by) if r.registered_by else None,
        history=[
            ChangeOut(
                kind=ChangeKind(h.kind),
                old_value=h.old_value,
                new_value=h.new_value,
                reason=h.reason,
                actor=show(h.actor) if len(h.actor) == 18 else h.actor,
                changed_at=utc_iso(h.changed_at),
            )
            for h in history
        ],
    )


def person_out(p: Person, records: list[RecordOut], *, full: bool = False) -> PersonOut:
    """API form of a person: ID and phone numbers masked unless ``full`` (clerks and appraisers)."""
    return PersonOut(
        id_number=p.id_number if full else mask_id(p.id_number),
        name=p.name,
        sex=Sex(p.sex),
        birth_date=p.birth_date,
        phone=p.phone if full else mask_phone(p.phone),
        records=records,
    )


def relative_out(p: Person, relation: Relation) -> RelativeOut:
    """A relative as listed to the person."""
    return RelativeOut(id_number=mask_id(p.id_number), name=p.name, relation=relation)
