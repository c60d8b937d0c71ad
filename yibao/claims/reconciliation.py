"""Reconciliation with an institution: of totals (3201 对总账) and of details (3202 对明细账, with its files).

A period covers the settlements whose ``setl_time`` falls in it (China dates, both ends included). Totals
are net: a settlement and its reversal in the same period cancel; a reversal in a later period counts there,
negated. ``fixmedins_setl_cnt`` counts the settlements of the period that are not reversed.

Details compare an uploaded file (9101) row by row with yibao's settlements of the period, each one row with
``refd_setl_flag`` 1 when it has been reversed (:mod:`yibao.claims.statements` reads, compares and writes the
files); the result is a file the institution downloads (9102). Files belong to the institution that made them:
another one finds none of them. Each is kept until its ``dld_endtime``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session

from yibao.claims import statements
from yibao.claims.models import Settlement, SettlementState, StatementFile, StatementFileKind, Visit
from yibao.claims.visits import aware, utc
from yibao.core.dates import CHINA_TZ, day_after, day_start, local_date
from yibao.core.errors import NotFound, ValidationFailed
from yibao.core.money import format_yuan
from yibao.institutions.models import InstitutionView as Institution
from yibao.people.models import Person

# How long a file is kept (assumed: the convention leaves it to the platform; a day covers reconciling and
# downloading the same day, after which the institution uploads again).
RETENTION = timedelta(hours=24)
_LOOKUP_CHUNK = 500  # setl_ids per IN (...) query, well under SQLite's limit of bound parameters


@dataclass(frozen=True, slots=True)
class Totals:
    """A period's net totals (fen) and its count of standing settlements."""

    medfee: int = 0
    fund: int = 0
    acct: int = 0
    count: int = 0


@dataclass(frozen=True, slots=True)
class Period:
    """What a 3201 asks about: the insutype, clearing type, clearing agency and the dates."""

    insutype: str
    clr_type: str
    setl_optins: str
    begin: date
    end: date


def totals(session: Session, institution: Institution, p: Period) -> Totals:
    """yibao's net totals of the institution's settlements in the period."""
    if p.end < p.begin:
        raise ValidationFailed("data.stmt_enddate", "对账结束日期早于开始日期", "stmt_enddate is before stmt_begndate")
    start, stop = day_start(p.begin), day_after(p.end)
    mine = and_(
        Settlement.institution_code == institution.code,
        Settlement.insutype == p.insutype,
        Settlement.clr_type == p.clr_type,
        Settlement.clr_optins == p.setl_optins,
    )

    def within(column: Any) -> ColumnElement[bool]:
        after: ColumnElement[bool] = column >= start
        return and_(after, column < stop) if stop is not None else after

    medfee = fund = acct = count = 0
    for s in session.scalars(select(Settlement).where(mine, within(Settlement.setl_time))):
        medfee, fund, acct = medfee + s.medfee_sumamt, fund + s.fund_pay_sumamt, acct + s.acct_pay
        count += s.state == SettlementState.SETTLED.value
    for s in session.scalars(select(Settlement).where(mine, within(Settlement.reversed_at))):
        medfee, fund, acct = medfee - s.medfee_sumamt, fund - s.fund_pay_sumamt, acct - s.acct_pay
    return Totals(medfee, fund, acct, count)


def compare(ours: Totals, theirs: Totals) -> tuple[str, str]:
    """``stmt_rslt`` (0 agree, 1 differ) and a description naming each figure that differs."""
    names = (
        ("medfee", "医疗费总额", True),
        ("fund", "基金支付总额", True),
        ("acct", "个人账户支付总额", True),
        ("count", "结算笔数", False),
    )
    differ = []
    for attr, zh, money in names:
        a, b = getattr(theirs, attr), getattr(ours, attr)
        if a != b:
            show = format_yuan if money else str
            differ.append(f"{zh}不一致：机构 {show(a)}，医保 {show(b)}")
    if not differ:
        return "0", "对账一致"
    return "1", "；".join(differ)


# ---- details (3202) and their files --------------------------------------------------------------


class NoFile(NotFound):
    """No file with this file_qury_no (and file name) kept for this institution."""

    code = "claims.no_statement_file"


def _new_file_qury_no(kind: StatementFileKind, now: datetime) -> str:
    # 2 + 14 + 14 = 30 characters, the convention's length; 56 random bits keep numbers unguessable.
    prefix = "UP" if kind is StatementFileKind.UPLOAD else "RS"
    return f"{prefix}{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}{secrets.token_hex(7).upper()}"


def dld_endtime(row: StatementFile) -> str:
    """A file's deadline as answered: ``yyyy-MM-dd HH:mm:ss``, China time."""
    return aware(row.dld_endtime).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _forget_expired(session: Session, institution: Institution, now: datetime) -> None:
    """Delete the institution's files whose deadline has passed (nobody may read them any more)."""
    gone = delete(StatementFile).where(
        StatementFile.institution_code == institution.code, StatementFile.dld_endtime < utc(now)
    )
    # No file loaded in this session has expired (find_file refuses those), so none needs syncing.
    session.execute(gone, execution_options={"synchronize_session": False})


def _keep(
    session: Session,
    institution: Institution,
    *,
    kind: StatementFileKind,
    filename: str,
    content: bytes,
    rows: int,
    msgid: str,
    now: datetime,
    source: str | None = None,
) -> StatementFile:
    row = StatementFile(
        file_qury_no=_new_file_qury_no(kind, now),
        institution_code=institution.code,
        kind=kind.value,
        filename=filename,
        content=content,
        rows=rows,
        source=source,
        msgid=msgid,
        created_at=utc(now),
        dld_endtime=utc(now + RETENTION),
    )
    session.add(row)
    session.flush()
    return row


def keep_upload(
    session: Session, institution: Institution, *, filename: str, content: bytes, msgid: str, now: datetime
) -> StatementFile:
    """Check and keep an uploaded detail file (9101); :class:`statements.BadFile` keeps nothing."""
    rows = statements.read_upload(content)
    _forget_expired(session, institution, now)
    return _keep(
        session,
        institution,
        kind=StatementFileKind.UPLOAD,
        filename=filename,
        content=content,
        rows=len(rows),
        msgid=msgid,
        now=now,
    )


def find_file(
    session: Session,
    institution: Institution,
    file_qury_no: str,
    kind: StatementFileKind,
    now: datetime,
    *,
    filename: str | None = None,
) -> StatementFile:
    """The institution's kept file of that kind, or :class:`NoFile` (another institution's is not found either)."""
    row = session.scalar(
        select(StatementFile).where(
            StatementFile.file_qury_no == file_qury_no,
            StatementFile.institution_code == institution.code,
            StatementFile.kind == kind.value,
        )
    )
    what = "上传的明细文件" if kind is StatementFileKind.UPLOAD else "对账结果文件"
    if row is None:
        raise NoFile(f"本机构没有文件查询号为 {file_qury_no} 的{what}", f"no such file {file_qury_no}")
    if filename is not None and row.filename != filename:
        raise NoFile(f"文件名 {filename} 与文件查询号 {file_qury_no} 不符", f"{filename} is not file {file_qury_no}")
    if aware(row.dld_endtime) < now:
        raise NoFile(
            f"文件 {file_qury_no} 已过截止时间 {dld_endtime(row)}，不再保留", f"file {file_qury_no} has expired"
        )
    return row


def _held(session: Session, where: ColumnElement[bool]) -> list[statements.Held]:
    query = (
        select(
            Settlement.setl_id,
            Visit.mdtrt_id,
            Person.psn_no,
            Settlement.medfee_sumamt,
            Settlement.fund_pay_sumamt,
            Settlement.acct_pay,
            Settlement.state,
            Settlement.setl_time,
            Settlement.clr_type,
            Settlement.clr_optins,
        )
        .join(Visit, Visit.id == Settlement.visit_id)
        .join(Person, Person.id == Settlement.person_id)
        .where(where)
        .order_by(Settlement.setl_time, Settlement.id)
        .limit(statements.MAX_ROWS + 1)
    )
    return [
        statements.Held(
            statements.Row(
                r.setl_id,
                r.mdtrt_id,
                r.psn_no,
                r.medfee_sumamt,
                r.fund_pay_sumamt,
                r.acct_pay,
                "1" if r.state == SettlementState.REVERSED.value else "0",
            ),
            local_date(aware(r.setl_time)),
            r.clr_type,
            r.clr_optins,
        )
        for r in session.execute(query)
    ]


def settlements_for(
    session: Session, institution: Institution, period: statements.Period, listed: list[str]
) -> list[statements.Held]:
    """yibao's settlements of the institution in the period, and those of ``listed`` (setl_ids) outside it."""
    if period.end < period.begin:
        raise ValidationFailed("data.stmt_enddate", "对账结束日期早于开始日期", "stmt_enddate is before stmt_begndate")
    start, stop = day_start(period.begin), day_after(period.end)
    mine = Settlement.institution_code == institution.code
    within = and_(
        mine,
        Settlement.clr_type == period.clr_type,
        Settlement.clr_optins == period.setl_optins,
        Settlement.setl_time >= start,
        *([Settlement.setl_time < stop] if stop is not None else []),
    )
    held = _held(session, within)
    if len(held) > statements.MAX_ROWS:
        raise ValidationFailed(
            "data.stmt_enddate",
            f"对账期间内结算超过 {statements.MAX_ROWS} 笔，请缩短对账期间",
            "too many settlements in the period",
        )
    found = {h.row.setl_id for h in held}
    missing = [s for s in dict.fromkeys(listed) if s not in found]
    for i in range(0, len(missing), _LOOKUP_CHUNK):
        held += _held(session, and_(mine, Settlement.setl_id.in_(missing[i : i + _LOOKUP_CHUNK])))
    return held


@dataclass(frozen=True, slots=True)
class Reconciled:
    """A 3202's result file and the differences it lists."""

    file: StatementFile
    differences: list[statements.Difference]


def reconcile_details(
    session: Session,
    institution: Institution,
    period: statements.Period,
    *,
    file_qury_no: str,
    msgid: str,
    now: datetime,
) -> Reconciled:
    """Compare an uploaded file with yibao's settlements of the period and keep the result file (3202)."""
    upload = find_file(session, institution, file_qury_no, StatementFileKind.UPLOAD, now)
    theirs = statements.read_upload(upload.content)
    held = settlements_for(session, institution, period, [r.setl_id for r in theirs])
    differences = statements.compare(theirs, held, period)
    stem = f"3202_{institution.code}_{period.begin:%Y%m%d}_{period.end:%Y%m%d}"
    content = statements.zip_text(f"{stem}.txt", statements.result_text(differences), now)
    _forget_expired(session, institution, now)
    kept = _keep(
        session,
        institution,
        kind=StatementFileKind.RESULT,
        filename=f"{stem}.zip",
        content=content,
        rows=len(differences),
        msgid=msgid,
        now=now,
        source=upload.file_qury_no,
    )
    return Reconciled(kept, differences)
