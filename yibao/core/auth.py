"""Who may do what: principals, roles, the rule table and the one check every use case calls.

Authorisation lives in the service layer: each use case calls :func:`authorize` with its action
and the person it acts on, before reading or changing anything. The caller is taken from the
session (``session.info["principal"]``), set by the entry point: the HTTP API from the request's
token, the command line as the local system operator. A session without a principal may do
nothing, so a forgotten entry point fails closed.

Each domain declares its actions with :func:`rule` next to its services; together they form one
table (:data:`RULES`), which the API's matrix test walks for every endpoint and role. Each domain also
says, in its ``access`` module, how a scope is resolved for its subjects
(:func:`register_scope_resolver`): whether a person is the caller's own, bound to the caller, insured in
the caller's region. Core knows no domain's tables; the application loads the access modules when it
assembles (:mod:`yibao.assembly`).

Lists (queues, searches, reports) are authorised with :func:`authorize_list`, which answers which
regions the caller may see.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from yibao.core import clock
from yibao.core.errors import Forbidden, Unauthenticated
from yibao.core.ids import mask_id, mask_ids_in

PROVINCE = "530000"  # the provincial agency's region code (GB/T 2260): staff there serve all of Yunnan


class Role(StrEnum):
    """What kind of caller, and for staff which job."""

    ANONYMOUS = "anonymous"
    PERSON = "person"  # an insured person (or someone paying for one)
    CLERK = "clerk"  # 经办: enrolment, counter services
    APPRAISER = "appraiser"  # 审核: approvals, withdrawals
    FINANCE = "finance"  # 财务: funds in and out, ledger checks
    AUDITOR = "auditor"  # 稽核: reads everything in the region, and the audit log
    ADMIN = "admin"  # 系统管理员: staff, institutions and service tokens; no insured data
    INSTITUTION = "institution"  # 定点医药机构: a designated hospital or pharmacy
    SERVICE = "service"  # a batch job (e.g. contribution transfers from the tax bureau)
    SYSTEM = "system"  # the operator at the server's command line


STAFF_ROLES = frozenset({Role.CLERK, Role.APPRAISER, Role.FINANCE, Role.AUDITOR, Role.ADMIN})


class Scope(StrEnum):
    """On whom a role may perform an action."""

    PUBLIC = "public"  # no subject; nothing personal
    ANY = "any"  # any person (e.g. paying a premium for someone else, a hospital settling a patient)
    OWN = "own"  # the caller's own data (an institution: what it did itself, e.g. its own settlements)
    BOUND = "bound"  # the caller's own, or a relative's through an active sharing binding (共济)
    REGION = "region"  # a person insured in the staff member's region (the province: everyone)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    role: Role
    login: str  # ID number, staff user name, institution code, service name (never shown unmasked)
    name: str
    identity_id: int | None = None
    person_id: int | None = None
    region: str | None = None  # staff, institutions: the pooling region they belong to

    @property
    def is_staff(self) -> bool:
        """A member of an agency's staff."""
        return self.role in STAFF_ROLES


ANONYMOUS = Principal(Role.ANONYMOUS, "anonymous", "匿名")


@lru_cache(maxsize=1)
def system_principal() -> Principal:
    """The operator running the command line on the server (already trusted with the database)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "operator"
    return Principal(Role.SYSTEM, f"system:{user}", user, region=PROVINCE)


# Staff who read insured persons' records in their region: every job but the administrator's.
REGION_READERS: dict[Role, Scope] = {
    Role.CLERK: Scope.REGION,
    Role.APPRAISER: Scope.REGION,
    Role.FINANCE: Scope.REGION,
    Role.AUDITOR: Scope.REGION,
}


@dataclass(frozen=True, slots=True)
class Rule:
    """An action: who may perform it on whom, and whether it reads or writes personal data."""

    action: str
    title: str  # what staff and auditors read
    allow: dict[Role, Scope]
    writes: bool
    audited: bool = True

    @property
    def public(self) -> bool:
        """Nothing personal: no login needed and nothing to audit."""
        return all(scope is Scope.PUBLIC for scope in self.allow.values())


RULES: dict[str, Rule] = {}


def rule(
    action: str,
    title: str,
    *,
    writes: bool,
    audited: bool = True,
    roles: dict[Role, Scope] | None = None,
    **allow: Scope,
) -> str:
    """Declare an action and who may perform it (``person=Scope.OWN, clerk=Scope.REGION, ...``)."""
    roles = {**(roles or {}), **{Role(name): scope for name, scope in allow.items()}}
    if action in RULES and RULES[action].allow != roles:
        raise ValueError(f"action {action} declared twice with different rules")
    RULES[action] = Rule(action, title, roles, writes, audited)
    return action


@dataclass(slots=True)
class Subject:
    """What an action is about: a person (or the region, before the person exists).

    ``kind`` names whose resolvers decide the scopes for it (``person``: the people domain's, with the
    accounts domain's sharing bindings for ``bound``; ``region``: nothing but its regions); ``regions``
    are the pooling regions it lies in, when the caller already knows them.
    """

    person_id: int | None = None
    id_number: str | None = None
    regions: frozenset[str] = field(default_factory=frozenset)
    kind: str = "person"
    institution: str | None = None  # the institution the data belongs to (a settlement's hospital)


# Whether a caller's scope covers a subject: (session, caller, subject) -> bool.
ScopeResolver = Callable[[Session, Principal, Subject], bool]
_RESOLVERS: dict[tuple[str, Scope], list[ScopeResolver]] = {}


def register_scope_resolver(kind: str, scope: Scope, resolver: ScopeResolver) -> None:
    """Say how ``scope`` is resolved for subjects of ``kind`` (any resolver that answers yes allows).

    Called by each domain's ``access`` module: ``own`` and ``region`` for persons by the people domain,
    ``bound`` by the accounts domain, whose sharing bindings make a relative's data the caller's too.
    """
    if scope in (Scope.PUBLIC, Scope.ANY):
        raise ValueError(f"scope {scope} needs no resolver")
    found = _RESOLVERS.setdefault((kind, scope), [])
    if resolver not in found:
        found.append(resolver)


@dataclass(frozen=True, slots=True)
class Visible:
    """The regions whose subjects a caller may list (``regions`` None: every region)."""

    regions: frozenset[str] | None

    def covers(self, *regions: str | None) -> bool:
        """Whether a subject lying in any of ``regions`` may be listed."""
        return self.regions is None or any(r in self.regions for r in regions if r is not None)


def principal_of(session: Session) -> Principal | None:
    """The caller this session works for (None: nobody, so nothing is allowed)."""
    p = session.info.get("principal")
    return p if isinstance(p, Principal) else None


def act_as(session: Session, principal: Principal, **request: Any) -> Session:
    """Attach the caller (and where the request came from) to a session."""
    session.info["principal"] = principal
    session.info["request"] = request
    return session


def _rule(action: str) -> Rule:
    r = RULES.get(action)
    if r is None:
        raise RuntimeError(f"no rule for action {action!r}")  # a programming error: every action has a rule
    return r


def _refuse(principal: Principal | None, r: Rule) -> Exception:
    if principal is None or principal.role is Role.ANONYMOUS:
        return Unauthenticated("请先登录", "please log in first")
    return Forbidden("无权办理该业务或查看该信息", f"not allowed: {r.title}", code="auth.forbidden")


def authorize(session: Session, action: str, subject: Subject | None = None, **detail: Any) -> Principal:
    """Allow the session's caller to perform ``action`` on ``subject``, or raise; either way it is audited.

    Raises :class:`Unauthenticated` for an anonymous caller who would need to log in and
    :class:`Forbidden` otherwise. The decision (and, when the unit of work ends, its outcome) goes
    to the audit log for every action that is not public.
    """
    r = _rule(action)
    principal = principal_of(session)
    allowed = principal is not None and _allowed(session, principal, r, subject)
    if r.audited and not r.public:
        note_decision(session, principal, r, subject, allowed, detail)
    if not allowed:
        raise _refuse(principal, r)
    assert principal is not None
    return principal


def authorize_list(session: Session, action: str, *, region: str | None = None, **detail: Any) -> Visible:
    """Allow the caller to list the subjects of ``action`` (in ``region`` when given): the regions they may see.

    Staff with ``region`` scope see their own region (the province's staff every region); roles allowed
    ``any`` or ``public`` see everything; ``own`` and ``bound`` concern one person, never a list. Audited
    like :func:`authorize`, with the region asked for (else the caller's) as the subject.
    """
    r = _rule(action)
    principal = principal_of(session)
    visible = _visible(principal, r)
    if visible is not None and region is not None:
        visible = Visible(frozenset({region})) if visible.covers(region) else None
    if r.audited and not r.public:
        about = region or (principal.region if principal is not None else None)
        subject = Subject(regions=frozenset({about}), kind="region") if about else None
        note_decision(session, principal, r, subject, visible is not None, detail)
    if visible is None:
        raise _refuse(principal, r)
    return visible


def _visible(p: Principal | None, r: Rule) -> Visible | None:
    if p is None:
        return None
    if p.role is Role.SYSTEM:
        return Visible(None)
    scope = r.allow.get(p.role)
    if scope in (Scope.PUBLIC, Scope.ANY):
        return Visible(None)
    if scope is Scope.REGION and p.region is not None:
        return Visible(None) if p.region == PROVINCE else Visible(frozenset({p.region}))
    return None


def require_caller(session: Session) -> Principal:
    """The session's caller; a session acting for nobody may do nothing (never the operator by default)."""
    p = principal_of(session)
    if p is None:
        raise Unauthenticated("请先登录", "please log in first")
    return p


def _allowed(session: Session, p: Principal, r: Rule, subject: Subject | None) -> bool:
    if p.role is Role.SYSTEM:
        return True
    scope = r.allow.get(p.role)
    if scope is None:
        return False
    if scope in (Scope.PUBLIC, Scope.ANY):
        return True
    if subject is None:
        # An action about nobody in particular (a check of the books): staff of the whole province only,
        # since it spans every region. Lists a region's staff may see go through authorize_list.
        return scope is Scope.REGION and p.region == PROVINCE
    if scope is Scope.REGION and p.region is not None and (p.region == PROVINCE or p.region in subject.regions):
        return True
    if p.role is Role.INSTITUTION and scope is Scope.OWN:
        # An institution's "own" is what it recorded itself (a settlement it made): its code is its login.
        return subject.institution is not None and subject.institution == p.login
    return _resolved(session, p, scope, subject)


def _resolved(session: Session, p: Principal, scope: Scope, subject: Subject) -> bool:
    """Ask the subject's domain: ``bound`` covers ``own`` too."""
    if subject.kind == "region":
        return False  # a region alone (before the person exists): decided by its regions above
    if not any(kind == subject.kind for kind, _ in _RESOLVERS):
        # Failing closed would hide a wiring mistake behind 403s: say which domain's rules are missing.
        raise RuntimeError(f"no scope resolvers for {subject.kind} subjects: load yibao.assembly.load_access()")
    scopes = (Scope.OWN, Scope.BOUND) if scope is Scope.BOUND else (scope,)
    return any(resolve(session, p, subject) for s in scopes for resolve in _RESOLVERS.get((subject.kind, s), ()))


FULL_ID_ROLES = frozenset({Role.CLERK, Role.APPRAISER})


def sees_full_ids(session: Session) -> bool:
    """Clerks and appraisers check identities at the counter and see ID and phone numbers in full."""
    p = principal_of(session)
    return p is not None and p.role in FULL_ID_ROLES


def public_rule(action: str, title: str) -> str:
    """An action anyone may perform, logged in or not (nothing personal is read or written)."""
    return rule(action, title, writes=False, audited=False, roles=dict.fromkeys(Role, Scope.PUBLIC))


def needs(action: str) -> dict[str, Any]:
    """OpenAPI extension for a route: the action it performs and who may perform it."""
    r = RULES[action]
    return {
        "x-action": action,
        "x-allowed": {role.value: scope.value for role, scope in r.allow.items()},
    }


def _actor(p: Principal | None) -> str:
    if p is None:
        return "(none)"
    return mask_ids_in(p.login)[:64]


def note_decision(
    session: Session,
    principal: Principal | None,
    r: Rule,
    subject: Subject | None,
    allowed: bool,
    detail: dict[str, Any],
    *,
    outcome: str | None = None,
) -> None:
    """Remember a decision for the audit log until the unit of work ends (``outcome`` when already known).

    The unit of work (:mod:`yibao.core.unit`) stores it with how the work ended.
    """
    req = session.info.get("request") or {}
    session.info.setdefault("audit_pending", []).append(
        {
            "at": clock.now(),
            "actor_role": principal.role.value if principal else "none",
            "actor": _actor(principal),
            "actor_identity_id": principal.identity_id if principal else None,
            "action": r.action,
            "writes": r.writes,
            "subject_person_id": subject.person_id if subject else None,
            "subject": mask_id(subject.id_number) if subject and subject.id_number else None,
            "subject_regions": ",".join(sorted(subject.regions)) if subject else None,
            "allowed": allowed,
            "outcome": outcome,
            "ip": req.get("ip"),
            "request_id": req.get("request_id"),
            "method": req.get("method"),
            "path": mask_ids_in(str(req.get("path") or ""))[:256] or None,
            "detail": mask_ids_in(json.dumps(detail, ensure_ascii=False, default=str)) if detail else None,
        }
    )
