"""The transaction registry of the national interface, and what a handler gets: :class:`Context` and :class:`Input`.

A transaction is a plain function registered for its ``infno``::

    from yibao.nhsa.registry import Context, Input, NhsaError, transaction

    @transaction("2201", action=REGISTER_OUTPATIENT, writes=True)
    def register_outpatient(ctx: Context, inp: Input) -> dict[str, Any]:
        data = inp.node("data")
        person = ctx.person(data.text("psn_no", max_len=30), path=data.at("psn_no"))
        total = data.money("medfee_sumamt")            # integer fen, read exactly
        for line in inp.list("feedetail"): ...         # errors name input.feedetail[3].<field>
        if refused: raise NhsaError("……")               # infcode -1, err_msg as given
        return {"data": {"mdtrt_id": ..., "psn_no": ...}}   # the answer's ``output``

``action`` is a rule of the access table (:func:`yibao.core.auth.rule`, with ``institution=Scope.ANY``);
``writes`` says whether the transaction changes anything: a transaction that only reads (``writes=False``)
stores its msgid with its answer after working, so a resent read may work again and is answered with the
stored first answer; anything that writes must say ``writes=True`` (its msgid is claimed first). The handler returns the ``output`` node (a dict;
amounts as :func:`yibao.nhsa.money.to_yuan` Decimals, which go out as exact JSON numbers) or raises
:class:`NhsaError` / :class:`FieldError` (from the :class:`Input` readers) to refuse. A transaction whose
answer is a file with no envelope (9102) returns a :class:`FileAnswer` instead; it must only read.

The dispatcher (:mod:`yibao.nhsa.gateway`) does the rest, for every message alike: it checks the
signature, the envelope and the institution's designation; authorises ``action`` for the institution
(audited: who, infno, outcome, the msgid as the record's ``request_id``, and the person once the handler
names one with :meth:`Context.person`; never the payload); and runs the handler in one database transaction
together with the ``msgid`` idempotency record (:func:`yibao.core.idempotency.once_in_unit`, in the institution's
namespace): the same msgid with the same infno and input gets the stored first answer and changes nothing,
the same msgid with anything else is refused (``msgid 已使用``). A refusal leaves nothing written. The
transaction commits before the answer is sent. A handler never commits, and flushes only what it writes.

Handler modules are imported on first use from :data:`HANDLER_MODULES`; a new group of transactions adds
its module there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from yibao.core.auth import RULES, Principal
from yibao.core.dates import local_date
from yibao.core.ids import mask_id
from yibao.institutions.models import InstitutionView
from yibao.nhsa.codes import INSUTYPE_OF
from yibao.nhsa.envelope import Envelope
from yibao.nhsa.errors import FieldError, NhsaError
from yibao.nhsa.payload import Input
from yibao.people.models import InsuranceRecord, Person, Scheme

__all__ = [
    "REGISTRY",
    "Context",
    "FieldError",
    "FileAnswer",
    "Input",
    "NhsaError",
    "PersonRecords",
    "Transaction",
    "transaction",
]

# Modules that register transactions (imported once, when the first message arrives).
HANDLER_MODULES = (
    "yibao.nhsa.handlers.sign",
    "yibao.nhsa.handlers.persons",
    "yibao.nhsa.handlers.catalogue",
    "yibao.nhsa.handlers.accumulations",
    "yibao.claims.messages.visits",
    "yibao.claims.messages.fees",
    "yibao.claims.messages.settlements",
    "yibao.claims.messages.filings",
)


@dataclass(frozen=True, slots=True)
class PersonRecords:
    """An insured person named by a message, with every insurance record."""

    person: Person
    records: list[InsuranceRecord]

    def record(self, scheme: Scheme) -> InsuranceRecord | None:
        """The person's record in a scheme, if any."""
        return next((r for r in self.records if r.scheme == scheme.value), None)


@dataclass(slots=True)
class Context:
    """What a handler knows: the database session, the institution, the envelope, the instant of the message."""

    session: Session
    institution: InstitutionView
    envelope: Envelope
    now: datetime
    principal: Principal
    audit: dict[str, Any] | None = field(default=None, repr=False)  # the message's audit note, to name its subject

    @property
    def infno(self) -> str:
        """The transaction number."""
        return self.envelope.infno

    @property
    def msgid(self) -> str:
        """The message id (the idempotency key)."""
        return self.envelope.msgid

    @property
    def today(self) -> date:
        """The China calendar day of the message."""
        return local_date(self.now)

    @property
    def insuplc_admdvs(self) -> str | None:
        """The insured's pooling region as the envelope names it (None when absent)."""
        return self.envelope.insuplc_admdvs

    @property
    def mdtrtarea_admvs(self) -> str | None:
        """The region of treatment as the envelope names it (None when absent)."""
        return self.envelope.mdtrtarea_admvs

    @property
    def opter(self) -> str | None:
        """The operator's number."""
        return self.envelope.opter

    def about(self, found: PersonRecords) -> None:
        """Name the person this message is about in its audit record (masked ID number, their regions)."""
        if self.audit is None:
            return
        regions = {r.region_code for r in found.records} | {self.institution.region}
        self.audit["subject_person_id"] = found.person.id
        self.audit["subject"] = mask_id(found.person.id_number)
        self.audit["subject_regions"] = ",".join(sorted(regions))

    def person(self, psn_no: str, *, path: str = "input.data.psn_no", scheme: Scheme | None = None) -> PersonRecords:
        """The insured person of a ``psn_no``, or a refusal; the envelope's ``insuplc_admdvs`` must be theirs.

        With ``scheme`` (the message's insutype), the person's record in that scheme gives the pooling
        region; otherwise any of their records may.
        """
        from yibao.people import persons as people

        found = people.find_with_records(self.session, psn_no=psn_no)
        if found is None:
            raise FieldError(path, f"未查询到人员编号 {psn_no} 的参保人")
        result = PersonRecords(*found)
        self.about(result)
        self.check_region(result, scheme)
        return result

    def check_region(self, found: PersonRecords, scheme: Scheme | None = None) -> None:
        """Refuse an envelope ``insuplc_admdvs`` that is not the person's pooling region."""
        given = self.envelope.insuplc_admdvs
        if given is None or not found.records:
            return
        record = found.record(scheme) if scheme is not None else None
        regions = [record.region_code] if record is not None else [r.region_code for r in found.records]
        if given not in regions:
            what = f"（{INSUTYPE_OF[scheme]}）" if scheme is not None and record is not None else ""
            raise FieldError(
                "insuplc_admdvs", f"参保地 {given} 与参保人的参保统筹区{what} {'、'.join(sorted(set(regions)))} 不一致"
            )


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """A file that is the whole answer (9102): sent as its bytes, without an envelope."""

    content: bytes
    filename: str  # sent in Content-Disposition
    media_type: str = "application/zip"


Handler = Callable[[Context, Input], "dict[str, Any] | FileAnswer"]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Transaction:
    """A registered transaction: its number, handler, access rule and whether it writes."""

    infno: str
    handler: Handler
    action: str
    writes: bool
    title: str


REGISTRY: dict[str, Transaction] = {}


def transaction(infno: str, *, action: str, writes: bool, title: str | None = None) -> Callable[[H], H]:
    """Register ``handler`` for ``infno`` (a four-digit transaction number), performed under ``action``."""
    if len(infno) != 4 or not infno.isdigit():
        raise ValueError(f"an infno has four digits: {infno!r}")
    if action not in RULES:
        raise ValueError(f"no rule for action {action!r}")

    def register(handler: H) -> H:
        known = REGISTRY.get(infno)
        name = f"{handler.__module__}.{handler.__qualname__}"
        if known is not None and f"{known.handler.__module__}.{known.handler.__qualname__}" != name:
            raise ValueError(f"infno {infno} registered twice ({known.handler.__module__}, {handler.__module__})")
        REGISTRY[infno] = Transaction(infno, handler, action, writes, title or RULES[action].title)
        return handler

    return register


_loaded = False


def load_handlers() -> dict[str, Transaction]:
    """Every registered transaction (importing the handler modules the first time)."""
    global _loaded
    if not _loaded:
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        _loaded = True
    return REGISTRY


def lookup(infno: str) -> Transaction | None:
    """The transaction registered for ``infno``, if any."""
    return load_handlers().get(infno)
