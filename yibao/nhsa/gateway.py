"""Dispatching one message: signature, envelope, designation, sign-in, access, the handler, the answer.

Everything about one message runs in one database transaction, in a worker thread admitted by the
database gate (:func:`yibao.api.deps.run_in_db_thread`): the institution is read and the nonce claimed
(one round trip on PostgreSQL), the envelope checked, the action authorised and audited, and the handler
run together with its ``msgid`` record (:func:`yibao.core.idempotency.once_in_unit`). The answer is rendered
inside that transaction, stored with the msgid, and sent only after COMMIT. A refusal rolls everything
back, its nonce claim included (a refused message leaves nothing behind but its audit record, written in
a transaction of its own); resending it is refused again, or answered if what was wrong has been put right.

A file download (9102) is answered with the file's bytes instead of an envelope (its refusals still get
one). It only reads, so its msgid is kept like any read's, with a note of the file rather than the bytes:
a resent 9102 reads the file again, which never changes while it is kept, and the same msgid with another
input is refused as for every message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from yibao.core import auth, clock, idempotency
from yibao.core.auth import ANONYMOUS, PROVINCE, Principal, Role, Scope, Subject, act_as, rule
from yibao.core.db import session_factory
from yibao.core.errors import AppError, Unavailable
from yibao.core.ids import find_full_ids, mask_ids_in
from yibao.core.unit import run_retrying
from yibao.institutions.models import InstitutionView
from yibao.nhsa import envelope, signature, signins
from yibao.nhsa.envelope import Envelope
from yibao.nhsa.errors import FieldError, NhsaError, Overloaded, SignatureError, to_json
from yibao.nhsa.payload import Input
from yibao.nhsa.registry import Context, FileAnswer, Transaction, lookup

log = logging.getLogger("yibao.nhsa")

MESSAGE = rule("nhsa.message", "国家接口报文 / a national-interface message", writes=False, institution=Scope.ANY)
SIGNATURE = rule(
    "nhsa.signature", "国家接口签名校验 / check a message's signature", writes=False, institution=Scope.ANY
)
SIGN_IN = "9001"
SOURCE = "fsi"  # the msgid namespace within the institution's (yibao.core.idempotency.namespace)
_PURGE_SECONDS = 60.0  # how often (at most) a process forgets old nonces (assumed operational value)


@dataclass(frozen=True, slots=True)
class Reply:
    """What goes back over HTTP."""

    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class _State:
    """What is known of a message as it is checked (for the answer to a refusal)."""

    signed: signature.Signed | None = None
    institution: InstitutionView | None = None
    infno: str | None = None
    msgid: str | None = None


# GB/T 2260 province-level codes: the first two digits of every resident ID number's region.
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


def _holds_id_number(msgid: str) -> bool:
    """Whether a msgid holds what is really an ID number (a province's region, a birth year since 1900).

    Message ids are runs of digits (institution code, yyyyMMddHHmmss, a sequence) in which an 18-digit
    window now and then passes the checksum and a calendar date; those are no ID numbers and stay as they
    are, so that the audit log can be searched by msgid.
    """
    return any(n[:2] in _PROVINCES and 1900 <= int(n[6:10]) <= clock.today().year for n in find_full_ids(msgid))


def principal_of(institution: InstitutionView) -> Principal:
    """The caller an institution is."""
    return Principal(
        Role.INSTITUTION,
        institution.code,
        institution.name,
        identity_id=institution.identity_id,
        region=institution.region,
    )


def _note(
    session: Session,
    principal: Principal | None,
    action: str,
    state: _State,
    *,
    allowed: bool,
    outcome: str | None = None,
    **extra: Any,
) -> None:
    """Audit a message that ends before its transaction's own rule is checked (who, infno, msgid, outcome)."""
    detail: dict[str, Any] = {"infno": state.infno, **extra}
    region = state.institution.region if state.institution is not None else None
    subject = Subject(regions=frozenset({region})) if region else None
    auth.note_decision(session, principal, auth.RULES[action], subject, allowed, detail, outcome=outcome)


def _refused(err: NhsaError, state: _State, received: datetime) -> Reply:
    inst = state.institution
    body = envelope.answer(
        output=None,
        admdvs=inst.region if inst is not None else PROVINCE,
        received=received,
        responded=clock.now(),
        err_msg=err.err_msg,
        infcode_string=inst.infcode_string if inst is not None else False,
    )
    return Reply(err.http_status, envelope.render(body), dict(err.info().headers))


_last_purge: float = 0.0


def _maybe_purge(session: Session, now: datetime) -> None:
    global _last_purge
    t = now.timestamp()
    if abs(t - _last_purge) >= _PURGE_SECONDS:
        _last_purge = t
        signature.forget_old_nonces(session, now)


def _work(
    session: Session,
    raw: Any,
    bad_json: NhsaError | None,
    path_infno: str | None,
    received: datetime,
    request: dict[str, Any],
    state: _State,
) -> str | FileAnswer:
    act_as(session, ANONYMOUS, **request)
    assert state.signed is not None
    # Signatures are checked against real time even on a server that plays another period (YIBAO_CLOCK).
    now = clock.wire_now()
    try:
        institution = signature.verify(session, state.signed, now)
    except SignatureError as exc:
        claimed = Principal(Role.ANONYMOUS, state.signed.paasid[:64], "")
        _note(
            session, claimed, SIGNATURE, state, allowed=False, outcome=f"failed:{exc.code}", paasid=state.signed.paasid
        )
        raise
    state.institution = institution
    principal = principal_of(institution)
    act_as(session, principal, **request)
    _maybe_purge(session, now)
    if bad_json is not None:
        _note(session, principal, MESSAGE, state, allowed=True)
        raise bad_json
    try:
        env = envelope.read_envelope(raw)
        state.msgid = env.msgid
        if path_infno is not None and path_infno != env.infno:
            raise FieldError("infno", f"报文中的交易编号 {env.infno} 与请求地址中的 {path_infno} 不一致")
        if env.fixmedins_code != institution.code:
            raise SignatureError(
                f"fixmedins_code: {env.fixmedins_code} 不是接入账号 {institution.paasid} 所属的定点医药机构"
                f"（{institution.code}）",
                code="nhsa.signature.institution",
            )
        tx = lookup(env.infno)
        if tx is None:
            raise NhsaError(f"不支持的交易 infno={env.infno}", code="nhsa.unknown_infno")
    except NhsaError:
        _note(session, principal, MESSAGE, state, allowed=True)
        raise
    auth.authorize(session, tx.action, Subject(regions=frozenset({institution.region})), infno=env.infno)
    note = session.info["audit_pending"][-1] if auth.RULES[tx.action].audited else None
    why = institution.refusal(clock.today())
    if why is not None:
        raise NhsaError(why, code="nhsa.not_designated")
    if env.sign_no is not None and env.infno != SIGN_IN:
        # A sign-in is how a stale sign_no is replaced: the envelope of 9001 may still carry the old one.
        signins.check_current(session, institution, env.sign_no, clock.today())
    ctx = Context(session, institution, env, clock.now(), principal, note)
    return _once(ctx, env, tx, received)


def _once(ctx: Context, env: Envelope, tx: Transaction, received: datetime) -> str | FileAnswer:
    files: list[FileAnswer] = []

    def run() -> dict[str, Any]:
        output = tx.handler(ctx, Input(env.input))
        if isinstance(output, FileAnswer):
            files.append(output)  # the bytes go out as they are; the msgid keeps only the file's name
            return {"file": output.filename}
        answer = envelope.answer(
            output=output,
            admdvs=ctx.institution.region,
            received=received,
            responded=clock.now(),
            infcode_string=ctx.institution.infcode_string,
        )
        return {"answer": to_json(answer)}

    try:
        stored = idempotency.once_in_unit(
            ctx.session,
            space=idempotency.namespace(ctx.principal, SOURCE),
            key=env.msgid,
            body={"infno": env.infno, "input": env.input},
            run=run,
            writes=tx.writes,
        )
    except idempotency.KeyReused:
        raise NhsaError(
            f"msgid 已使用：{env.msgid} 已用于另一笔报文（重发原报文将得到原应答；新报文请使用新的 msgid）",
            code="nhsa.msgid_reused",
        ) from None
    except idempotency.InProgress:
        raise Overloaded(f"msgid {env.msgid} 正在处理中，请稍后重发", code="nhsa.msgid_in_progress") from None
    if "file" in stored:
        if not files:  # a stored note without the file: only a transaction that writes is not run again
            raise RuntimeError(f"infno {env.infno} answers with a file and must be declared writes=False")
        return files[-1]
    return str(stored["answer"])


def _file_reply(answer: FileAnswer) -> Reply:
    name = answer.filename
    plain = name.isascii() and name.isprintable() and '"' not in name and "\\" not in name
    disposition = f'attachment; filename="{name}"' if plain else f"attachment; filename*=UTF-8''{quote(name)}"
    headers = {"content-type": answer.media_type, "content-disposition": disposition}
    return Reply(200, answer.content, headers)


def handle(
    engine: Engine,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    path_infno: str | None = None,
    request: dict[str, Any] | None = None,
) -> Reply:
    """Answer one message (its body and headers as received); never raises."""
    received = clock.now()
    state = _State()
    request = request or {}
    try:
        try:
            body: Any = envelope.parse_json(raw)
            bad_json = None
        except NhsaError as exc:
            body, bad_json = None, exc
        state.infno = envelope.read_infno(body)
        msgid = body.get("msgid") if isinstance(body, dict) else None
        if isinstance(msgid, str) and msgid.isascii() and msgid.isprintable():
            state.msgid = msgid = msgid[: envelope.MSGID_MAX]
            # The audit record names the message by its msgid, where a request id goes (masked if it
            # ever held an ID number; a msgid's digits are no ID number and stay searchable).
            request = {**request, "request_id": mask_ids_in(msgid) if _holds_id_number(msgid) else msgid}
        state.signed = signature.read_headers(headers)
        answer = run_retrying(
            session_factory(engine), lambda s: _work(s, body, bad_json, path_infno, received, request, state)
        )
        if isinstance(answer, FileAnswer):
            return _file_reply(answer)
        return Reply(200, answer.encode("utf-8"), {})
    except SignatureError as exc:
        return _refused(exc, state, received)
    except NhsaError as exc:
        return _refused(exc, state, received)
    except (OperationalError, PoolTimeout, Unavailable) as exc:
        log.warning("database unavailable for a message: %s", type(exc).__name__)
        return _refused(Overloaded("系统繁忙或数据库暂不可用，请稍后用同一 msgid 重发"), state, received)
    except AppError as exc:
        log.warning("message refused by %s", exc.code)
        return _refused(NhsaError(exc.message_zh, code=exc.code), state, received)
    except Exception as exc:
        log.exception("unexpected error in a message: %s", type(exc).__name__)
        err = NhsaError("系统内部错误，请稍后重发", code="internal_error")
        reply = _refused(err, state, received)
        return Reply(500, reply.body, {})
