"""Visits and their state machine: outpatient registration (2201/2202/2203), admission and discharge
(2401/2402/2403/2404/2405), and the lookups every later message starts with.

    registered ──2207──► settled ──2208──► registered
    admitted ──2402──► discharged ──2304──► settled ──2305──► discharged
    admitted ◄──2405── discharged        admitted ──2304 (mid_setl_flag 1)──► settled
    registered ──2202──► cancelled        admitted ──2404 (no fee lines)──► cancelled

Every refusal says what the visit's state is and what to do instead.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yibao.claims.errors import ClaimRefused, NoVisit, WrongState
from yibao.claims.models import Diagnosis, FeeLine, Visit, VisitKind, VisitState
from yibao.core import clock
from yibao.core.dates import local_date
from yibao.core.errors import ValidationFailed
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import Person

STATE_ZH = {
    VisitState.REGISTERED: "已挂号未结算",
    VisitState.ADMITTED: "在院",
    VisitState.DISCHARGED: "已出院未结算",
    VisitState.SETTLED: "已结算",
    VisitState.CANCELLED: "已撤销",
}
_HINT = {
    VisitState.SETTLED: "；如需更正，请先冲销结算",
    VisitState.CANCELLED: "；请重新挂号或办理入院",
}

# med_type as sent → (the visit's med_type, matn_type it implies): 2101 is ordinary inpatient, 2106 and
# 2107 are maternity with a natural delivery and a caesarean (national-interface.md, "Codes").
MED_TYPES: dict[str, tuple[str, str | None]] = {
    "11": ("11", None),
    "14": ("14", None),
    "21": ("21", None),
    "2101": ("21", None),
    "52": ("52", None),
    "2106": ("52", "1"),
    "2107": ("52", "3"),
}
OUTPATIENT_MED_TYPES = ("11", "14")
INPATIENT_MED_TYPES = ("21", "52")
MATN_TYPES = ("1", "2", "3", "4", "5", "6", "7", "9")


def normalise_med_type(value: str, *, field: str, kind: VisitKind) -> tuple[str, str | None]:
    """The visit's med_type (and the matn_type 2106/2107 imply), or bad input naming the field."""
    found = MED_TYPES.get(value)
    allowed = OUTPATIENT_MED_TYPES if kind is VisitKind.OUTPATIENT else INPATIENT_MED_TYPES
    if found is None or found[0] not in allowed:
        names = "11 普通门诊、14 门诊慢特病" if kind is VisitKind.OUTPATIENT else "21 普通住院、52 生育住院"
        raise ValidationFailed(field, f"医疗类别 {value!r} 不受支持（应为 {names}）", f"unsupported med_type {value!r}")
    return found


def new_id(day: date) -> str:
    """A public identifier (mdtrt_id, setl_id, trt_dcla_detl_sn): the China date and 12 random digits."""
    return f"{day:%Y%m%d}{secrets.randbelow(10**12):012d}"


def _refuse_state(visit: Visit, doing: str) -> WrongState:
    state = VisitState(visit.state)
    return WrongState(
        f"就诊 {visit.mdtrt_id} {STATE_ZH[state]}，不能{doing}{_HINT.get(state, '')}",
        f"visit {visit.mdtrt_id} is {state.value}: cannot {doing}",
        details={"mdtrt_id": visit.mdtrt_id, "state": state.value},
    )


def require_state(visit: Visit, allowed: Sequence[VisitState], doing: str) -> None:
    """Refuse a move the visit's state does not allow, saying the state and what to do."""
    if visit.state not in allowed:
        raise _refuse_state(visit, doing)


# Built once: every message about a visit starts here (the compiled forms are cached with the statements).
_VISIT = select(Visit).where(Visit.mdtrt_id == bindparam("mdtrt_id"))
_VISIT_LOCKED = _VISIT.with_for_update()


def find_visit(
    session: Session, *, institution: Institution, mdtrt_id: str, person: Person, lock: bool = False
) -> Visit:
    """The institution's visit of this person (locked for the transaction when asked)."""
    visit = session.scalar(_VISIT_LOCKED if lock else _VISIT, {"mdtrt_id": mdtrt_id})
    if visit is None or visit.institution_code != institution.code:
        # Another institution's visit is refused exactly like an unknown one: nothing about it is told.
        raise NoVisit(f"本机构没有就诊记录 mdtrt_id={mdtrt_id}", f"no visit {mdtrt_id} at this institution")
    if visit.person_id != person.id:
        raise ClaimRefused(
            f"就诊 {mdtrt_id} 不属于人员编号所指的参保人",
            f"visit {mdtrt_id} belongs to another person",
            code="claims.person_mismatch",
        )
    return visit


@dataclass(frozen=True, slots=True)
class DiagnosisIn:
    """One diagnosis as sent (diseinfo[])."""

    diag_code: str
    diag_name: str
    diag_type: str | None = None
    diag_srt_no: int | None = None
    main: bool = False
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Opening:
    """A registration (2201) or an admission (2401)."""

    person: Person
    insutype: str
    begntime: datetime
    mdtrt_cert_type: str
    ipt_otp_no: str
    med_type: str | None = None  # admissions: normalised 21 or 52
    matn_type: str | None = None
    diagnoses: tuple[DiagnosisIn, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def _check_insutype(insutype: str, field_: str) -> None:
    if insutype not in ("310", "390"):
        raise ValidationFailed(
            field_, f"险种类型 {insutype!r} 不受支持（310 职工、390 居民）", f"unsupported insutype {insutype!r}"
        )


def _open(session: Session, institution: Institution, o: Opening, kind: VisitKind, msgid: str) -> Visit:
    now = clock.now()
    visit = Visit(
        mdtrt_id=new_id(local_date(now)),
        person_id=o.person.id,
        institution_code=institution.code,
        kind=kind.value,
        state=(VisitState.REGISTERED if kind is VisitKind.OUTPATIENT else VisitState.ADMITTED).value,
        insutype=o.insutype,
        med_type=o.med_type,
        matn_type=o.matn_type,
        ipt_otp_no=o.ipt_otp_no,
        mdtrt_cert_type=o.mdtrt_cert_type,
        begntime=utc(o.begntime),
        details=json.dumps(o.details, ensure_ascii=False, default=str),
        opened_msgid=msgid,
        created_at=now,
        updated_at=now,
    )
    session.add(visit)
    session.flush()
    _add_diagnoses(session, visit, o.diagnoses, "admission" if kind is VisitKind.INPATIENT else "outpatient")
    return visit


def _add_diagnoses(session: Session, visit: Visit, diagnoses: Sequence[DiagnosisIn], stage: str) -> None:
    now = clock.now()
    session.add_all(
        Diagnosis(
            visit_id=visit.id,
            stage=stage,
            diag_type=d.diag_type,
            diag_srt_no=d.diag_srt_no,
            diag_code=d.diag_code,
            diag_name=d.diag_name,
            main=d.main,
            valid=d.valid,
            recorded_at=now,
        )
        for d in diagnoses
    )


def register_outpatient(session: Session, *, institution: Institution, opening: Opening, msgid: str) -> Visit:
    """2201: open an outpatient visit."""
    _check_insutype(opening.insutype, "data.insutype")
    return _open(session, institution, opening, VisitKind.OUTPATIENT, msgid)


def cancel_outpatient(
    session: Session, *, institution: Institution, mdtrt_id: str, person: Person, ipt_otp_no: str
) -> Visit:
    """2202: cancel an outpatient registration that has no fee lines left and is not settled."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.OUTPATIENT, "撤销门诊挂号")
    if visit.ipt_otp_no != ipt_otp_no:
        raise ValidationFailed("data.ipt_otp_no", "门诊号与挂号时不一致", "ipt_otp_no differs from the registration")
    require_state(visit, (VisitState.REGISTERED,), "撤销挂号")
    _no_lines(session, visit, "撤销挂号", "2205")
    return _move(visit, VisitState.CANCELLED)


def record_outpatient(
    session: Session,
    *,
    institution: Institution,
    mdtrt_id: str,
    person: Person,
    med_type: str,
    begntime: datetime,
    diagnoses: Sequence[DiagnosisIn],
    details: dict[str, Any],
) -> Visit:
    """2203: the visit's medical type and diagnoses (a later 2203 replaces the earlier diagnoses)."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.OUTPATIENT, "上传门诊就诊信息")
    require_state(visit, (VisitState.REGISTERED,), "上传就诊信息")
    visit.med_type, _ = normalise_med_type(med_type, field="mdtrtinfo.med_type", kind=VisitKind.OUTPATIENT)
    if begntime < aware(visit.begntime):
        raise ValidationFailed("mdtrtinfo.begntime", "就诊时间早于挂号时间", "begntime is before the registration")
    _replace_diagnoses(session, visit, diagnoses, "outpatient")
    visit.details = json.dumps(json.loads(visit.details) | details, ensure_ascii=False, default=str)
    visit.updated_at = clock.now()
    session.flush()
    return visit


def _replace_diagnoses(session: Session, visit: Visit, diagnoses: Sequence[DiagnosisIn], stage: str) -> None:
    for d in session.scalars(select(Diagnosis).where(Diagnosis.visit_id == visit.id, Diagnosis.stage == stage)):
        d.valid = False
    _add_diagnoses(session, visit, diagnoses, stage)


def admit(session: Session, *, institution: Institution, opening: Opening, msgid: str) -> Visit:
    """2401: admit a person; one open admission per person and institution."""
    _check_insutype(opening.insutype, "mdtrtinfo.insutype")
    open_stay = session.scalar(
        select(Visit.mdtrt_id).where(
            Visit.person_id == opening.person.id,
            Visit.institution_code == institution.code,
            Visit.kind == VisitKind.INPATIENT.value,
            Visit.state.in_([VisitState.ADMITTED.value, VisitState.DISCHARGED.value]),
        )
    )
    if open_stay is not None:
        raise WrongState(
            f"该参保人在本机构已有未结算的住院（mdtrt_id={open_stay}），不能重复办理入院",
            f"the person already has an open admission here ({open_stay})",
            code="claims.already_admitted",
            details={"mdtrt_id": open_stay},
        )
    return _open(session, institution, opening, VisitKind.INPATIENT, msgid)


def discharge(
    session: Session,
    *,
    institution: Institution,
    mdtrt_id: str,
    person: Person,
    insutype: str,
    endtime: datetime,
    dscg_way: str,
    diagnoses: Sequence[DiagnosisIn],
    details: dict[str, Any],
) -> Visit:
    """2402: discharge; the stay then waits for settlement."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.INPATIENT, "办理出院")
    require_state(visit, (VisitState.ADMITTED,), "办理出院")
    if insutype != visit.insutype:
        raise ValidationFailed("dscginfo.insutype", "险种类型与入院时不一致", "insutype differs from the admission")
    if endtime < aware(visit.begntime):
        raise ValidationFailed(
            "dscginfo.endtime",
            f"出院时间早于入院时间（入院 {local_date(aware(visit.begntime)).isoformat()}）",
            "endtime is before the admission",
        )
    if dscg_way not in ("1", "2", "3", "4", "5", "9"):
        raise ValidationFailed("dscginfo.dscg_way", f"离院方式 {dscg_way!r} 不正确", f"unknown dscg_way {dscg_way!r}")
    visit.endtime = utc(endtime)
    visit.dscg_way = dscg_way
    _replace_diagnoses(session, visit, diagnoses, "discharge")
    visit.details = json.dumps(json.loads(visit.details) | details, ensure_ascii=False, default=str)
    return _move(visit, VisitState.DISCHARGED)


def change_admission(
    session: Session, *, institution: Institution, mdtrt_id: str, person: Person, changes: dict[str, Any]
) -> Visit:
    """2403: change what the admission recorded (department, bed, doctor, begntime ...) before settlement."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.INPATIENT, "变更入院信息")
    require_state(visit, (VisitState.ADMITTED, VisitState.DISCHARGED), "变更入院信息")
    begntime = changes.pop("begntime", None)
    if isinstance(begntime, datetime):
        first = session.scalar(select(func.min(FeeLine.fee_ocur_time)).where(_active(visit)))
        if first is not None and aware(first) < begntime:
            raise ValidationFailed("adminfo.begntime", "入院时间晚于已上传的费用发生时间", "begntime after fee lines")
        if visit.endtime is not None and aware(visit.endtime) < begntime:
            raise ValidationFailed("adminfo.begntime", "入院时间晚于出院时间", "begntime after endtime")
        visit.begntime = utc(begntime)
    visit.details = json.dumps(json.loads(visit.details) | changes, ensure_ascii=False, default=str)
    visit.updated_at = clock.now()
    session.flush()
    return visit


def cancel_admission(session: Session, *, institution: Institution, mdtrt_id: str, person: Person) -> Visit:
    """2404: cancel an admission with no fee lines and no settlement left."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.INPATIENT, "撤销入院")
    require_state(visit, (VisitState.ADMITTED, VisitState.DISCHARGED), "撤销入院")
    _no_lines(session, visit, "撤销入院", "2302")
    return _move(visit, VisitState.CANCELLED)


def cancel_discharge(session: Session, *, institution: Institution, mdtrt_id: str, person: Person) -> Visit:
    """2405: take a discharge back (the stay is open again); a settled stay must be reversed first."""
    visit = find_visit(session, institution=institution, mdtrt_id=mdtrt_id, person=person, lock=True)
    _kind(visit, VisitKind.INPATIENT, "撤销出院")
    require_state(visit, (VisitState.DISCHARGED,), "撤销出院")
    visit.endtime = None
    visit.dscg_way = None
    for d in session.scalars(select(Diagnosis).where(Diagnosis.visit_id == visit.id, Diagnosis.stage == "discharge")):
        d.valid = False
    return _move(visit, VisitState.ADMITTED)


def _kind(visit: Visit, kind: VisitKind, doing: str) -> None:
    if visit.kind != kind.value:
        zh = "门诊" if visit.kind == VisitKind.OUTPATIENT.value else "住院"
        raise WrongState(
            f"就诊 {visit.mdtrt_id} 是{zh}，不能{doing}",
            f"visit {visit.mdtrt_id} is {visit.kind}",
            code="claims.wrong_kind",
        )


def _active(visit: Visit) -> Any:
    return (FeeLine.visit_id == visit.id) & (FeeLine.status == "active")


def _no_lines(session: Session, visit: Visit, doing: str, infno: str) -> None:
    n = session.scalar(select(func.count()).select_from(FeeLine).where(_active(visit))) or 0
    if n:
        raise WrongState(
            f"就诊 {visit.mdtrt_id} 已有 {n} 条费用明细，不能{doing}（请先撤销费用明细 {infno}）",
            f"visit {visit.mdtrt_id} has {n} fee lines: withdraw them first ({infno})",
            code="claims.has_fee_lines",
        )


def _move(visit: Visit, to: VisitState) -> Visit:
    visit.state = to.value
    visit.updated_at = clock.now()
    return visit


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (they are stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """An instant as it is stored: in UTC (SQLite keeps no offset)."""
    return aware(moment).astimezone(UTC)


# 2207 / 2304: the visit (``of_visit``) is settled at ``at``.
SETTLED = (
    update(Visit)
    .where(Visit.id == bindparam("of_visit"))
    .values(state=VisitState.SETTLED.value, updated_at=bindparam("at"))
)


def mark_settled(session: Session, visit: Visit, at: datetime) -> None:
    """2207 / 2304: the visit is settled, in one statement (no flush)."""
    session.connection().execute(SETTLED, {"of_visit": visit.id, "at": at})
    settled(visit, at)


def settled(visit: Visit, at: datetime) -> None:
    """After a statement settled the visit: the visit in hand says so too, as if it had been flushed."""
    set_committed_value(visit, "state", VisitState.SETTLED.value)
    set_committed_value(visit, "updated_at", at)


def reopen(visit: Visit) -> Visit:
    """After a reversal: the visit is open again for corrections, as it was before settlement."""
    if visit.kind == VisitKind.OUTPATIENT.value:
        return _move(visit, VisitState.REGISTERED)
    return _move(visit, VisitState.DISCHARGED if visit.endtime is not None else VisitState.ADMITTED)


def cancel_opened(session: Session, *, institution: Institution, msgid: str, person: Person) -> Visit | None:
    """2601 of a 2401: cancel the admission that message opened (nothing can hang on it yet)."""
    visit = session.scalar(
        select(Visit).where(Visit.institution_code == institution.code, Visit.opened_msgid == msgid).with_for_update()
    )
    if visit is None or visit.person_id != person.id:
        return None
    return cancel_admission(session, institution=institution, mdtrt_id=visit.mdtrt_id, person=person)
