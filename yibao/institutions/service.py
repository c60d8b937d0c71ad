"""Registering designated institutions: codes, kinds and levels, designation dates, signing secrets.

Staff of the institution's region (administrators) register it; registration and rotation return the
secret once, which is stored only sealed (:mod:`yibao.institutions.secrets`). An institution is a caller
with the role ``institution``: its row references its login (``auth_identities``), the same login whose API
keys pay from personal accounts over REST, so one institution is one principal on both interfaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import PROVINCE, Scope, Subject, rule
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.core.text import clean_name
from yibao.identity import logins as identity
from yibao.identity.models import Identity
from yibao.institutions import secrets
from yibao.institutions.models import Institution, InstitutionKind, InstitutionStatus
from yibao.people.regions import check_region

MANAGE = rule(
    "institutions.manage",
    "定点医药机构登记、密钥与定点期限 / register institutions, rotate secrets, end designations",
    writes=True,
    admin=Scope.REGION,
)
READ = rule(
    "institutions.read",
    "查询定点医药机构 / read designated institutions",
    writes=False,
    audited=False,  # nothing personal
    roles=auth.REGION_READERS,
    admin=Scope.REGION,
)

CODE_PATTERN = r"[A-Z0-9]{12}"
PAASID_PATTERN = r"[A-Za-z0-9_.:-]{3,64}"
LEVELS = (1, 2, 3)


def _region_subject(region: str) -> Subject:
    return Subject(regions=frozenset({region}))


def _check_code(code: str, field: str = "code") -> str:
    if not re.fullmatch(CODE_PATTERN, code):
        raise ValidationFailed(
            field,
            "定点医药机构编码为12位大写字母或数字（如 H53010000001）",
            "an institution code has 12 upper-case letters or digits (e.g. H53010000001)",
        )
    return code


def _level(kind: InstitutionKind, level: int | None) -> int | None:
    """Hospitals 1-3 (required); a community health centre 1 unless registered otherwise; pharmacies none."""
    if kind is InstitutionKind.PHARMACY:
        if level is not None:
            raise ValidationFailed("level", "定点零售药店没有等级", "a pharmacy has no level")
        return None
    if level is None:
        if kind is InstitutionKind.COMMUNITY_HEALTH_CENTER:
            return 1
        raise ValidationFailed("level", "医院须填写等级（1、2、3级）", "a hospital needs its level (1, 2 or 3)")
    if level not in LEVELS:
        raise ValidationFailed("level", "等级应为1、2或3级", "level must be 1, 2 or 3")
    return level


def get(session: Session, code: str) -> Institution:
    """The institution with this code, or NotFound."""
    row = session.scalar(select(Institution).where(Institution.code == code))
    if row is None:
        raise NotFound("未找到该定点医药机构", "no institution with this code", code="institutions.not_found")
    return row


def by_paasid(session: Session, paasid: str) -> Institution | None:
    """The institution of an app account (x-tif-paasid), if any."""
    return session.scalar(select(Institution).where(Institution.paasid == paasid))


def add(
    session: Session,
    *,
    code: str,
    name: str,
    kind: InstitutionKind | str,
    region: str,
    level: int | None = None,
    designated_from: date | None = None,
    designated_until: date | None = None,
    paasid: str | None = None,
    infcode_string: bool = False,
) -> tuple[Institution, str]:
    """Register a designated institution; returns it with its secret (shown once, stored sealed)."""
    code = _check_code(code.strip())
    name = clean_name(name, field="name")
    try:
        kind = InstitutionKind(kind)
    except ValueError:
        raise ValidationFailed(
            "kind",
            "类型应为 hospital、community_health_center 或 pharmacy",
            "kind must be hospital, community_health_center or pharmacy",
        ) from None
    check_region(region)
    level = _level(kind, level)
    start = designated_from or clock.today()
    if designated_until is not None and designated_until < start:
        raise ValidationFailed(
            "designated_until", "定点终止日期不能早于起始日期", "the designation cannot end before it starts"
        )
    paasid = (paasid or f"yb_{code}").strip()
    if not re.fullmatch(PAASID_PATTERN, paasid):
        raise ValidationFailed(
            "paasid", "接入账号为3至64位字母、数字或 _.:-", "a paasid has 3 to 64 of A-Z a-z 0-9 _ . : -"
        )
    auth.authorize(session, MANAGE, _region_subject(region), code=code, op="add")
    if session.scalar(select(Institution.id).where(Institution.code == code)) is not None:
        raise Conflict("该定点医药机构已登记", "this institution is already registered", code="institutions.exists")
    if session.scalar(select(Institution.id).where(Institution.paasid == paasid)) is not None:
        raise Conflict("该接入账号已被使用", "this paasid is already in use", code="institutions.paasid_taken")
    login = identity.institution_login(session, code=code, name=name, region=region)
    secret = secrets.new_secret()
    row = Institution(
        code=code,
        name=name,
        kind=kind.value,
        level=level,
        region=region,
        designated_from=start,
        designated_until=designated_until,
        paasid=paasid,
        secret_sealed=secrets.seal(secret, code),
        secret_version=1,
        infcode_string=infcode_string,
        status=InstitutionStatus.ACTIVE.value,
        identity_id=login.id,
        created_at=clock.now(),
        created_by=_actor(session),
    )
    session.add(row)
    session.flush()
    return row, secret


def _actor(session: Session) -> str:
    p = auth.principal_of(session)
    return p.login if p is not None else "unknown"


def _managed(session: Session, code: str, op: str) -> Institution:
    """The institution, once the caller may manage institutions of its region (unknown codes look the same)."""
    row = session.scalar(select(Institution).where(Institution.code == code))
    p = auth.principal_of(session)
    region = row.region if row is not None else (p.region if p is not None and p.region else PROVINCE)
    auth.authorize(session, MANAGE, _region_subject(region), code=code, op=op)
    if row is None:
        return get(session, code)
    return row


def rotate_secret(session: Session, code: str) -> tuple[Institution, str]:
    """A new secret for the institution (the old one stops working at once); shown once."""
    row = _managed(session, code, "rotate_secret")
    secret = secrets.new_secret()
    row.secret_sealed = secrets.seal(secret, row.code)
    row.secret_version += 1
    session.flush()
    return row, secret


def end_designation(session: Session, code: str, *, on: date | None = None) -> Institution:
    """End the designation on ``on`` (default today): the institution is designated until the day before."""
    row = _managed(session, code, "end_designation")
    end = on or clock.today()
    last = end - timedelta(days=1)
    if last < row.designated_from - timedelta(days=1):
        raise ValidationFailed("on", "终止日期早于定点起始日期", "the end is before the designation starts")
    row.designated_until = last
    session.flush()
    return row


def _login(session: Session, row: Institution) -> Identity:
    ident = session.get(Identity, row.identity_id)
    assert ident is not None
    return ident


def suspend(session: Session, code: str, *, reason: str) -> Institution:
    """Suspend the institution's medical-insurance service (messages and API keys are refused)."""
    if not reason.strip():
        raise ValidationFailed("reason", "须填写原因", "a reason is required")
    row = _managed(session, code, "suspend")
    row.status = InstitutionStatus.SUSPENDED.value
    row.status_reason = reason.strip()[:200]
    _login(session, row).active = False
    session.flush()
    return row


def reinstate(session: Session, code: str) -> Institution:
    """Lift a suspension."""
    row = _managed(session, code, "reinstate")
    row.status = InstitutionStatus.ACTIVE.value
    row.status_reason = None
    _login(session, row).active = True
    session.flush()
    return row


def show(session: Session, code: str) -> Institution:
    """One institution, for staff who may read institutions of its region."""
    row = session.scalar(select(Institution).where(Institution.code == code))
    p = auth.principal_of(session)
    region = row.region if row is not None else (p.region if p is not None and p.region else PROVINCE)
    auth.authorize(session, READ, _region_subject(region), code=code)
    if row is None:
        return get(session, code)
    return row


def list(session: Session, *, region: str | None = None, kind: str | None = None) -> Sequence[Institution]:
    """Institutions of a region (default: the caller's; the province sees every region when none is given)."""
    p = auth.principal_of(session)
    if region is not None:
        check_region(region)
    scope = region or (p.region if p is not None and p.region else PROVINCE)
    auth.authorize(session, READ, _region_subject(scope), region=scope)
    q = select(Institution).order_by(Institution.region, Institution.code)
    if scope != PROVINCE or region is not None:
        q = q.where(Institution.region == scope)
    if kind is not None:
        q = q.where(Institution.kind == InstitutionKind(kind).value)
    return session.scalars(q).all()
