"""Operators' sign-ins (9001) and sign-outs (9002); a ``sign_no`` is current until signed out or the day ends."""

from __future__ import annotations

import base64
import os
from datetime import date, datetime

from sqlalchemy.orm import Session

from yibao.core.dates import local_date
from yibao.institutions.models import InstitutionView
from yibao.nhsa.errors import FieldError
from yibao.nhsa.models import SignIn


def new_sign_no() -> str:
    """A fresh sign-in number: 24 characters of base32 (120 random bits; never a run of digits)."""
    return base64.b32encode(os.urandom(15)).decode()


def sign_in(
    session: Session,
    institution: InstitutionView,
    *,
    opter_no: str,
    mac: str | None,
    ip: str | None,
    opter_type: str | None,
    msgid: str,
    now: datetime,
) -> SignIn:
    """Sign an operator in; the sign-in stays current through the end of the China day (or a sign-out)."""
    row = SignIn(
        sign_no=new_sign_no(),
        institution_id=institution.id,
        opter_no=opter_no,
        mac=mac,
        ip=ip,
        day=local_date(now),
        signed_in_at=now,
        signed_out_at=None,
        msgid=msgid,
        opter_type=opter_type,
    )
    session.add(row)
    session.flush()
    return row


def _own(session: Session, institution: InstitutionView, sign_no: str, path: str) -> SignIn:
    row = session.get(SignIn, sign_no)
    if row is None or row.institution_id != institution.id:
        # Another institution's sign-in is refused exactly like an unknown one.
        raise FieldError(path, f"签到编号 {sign_no} 不是本机构的签到", code="nhsa.sign_no.foreign")
    return row


def _stale(row: SignIn, today: date) -> str | None:
    if row.signed_out_at is not None:
        return "已签退"
    if row.day != today:
        return f"签到日期为 {row.day}，已过当日有效期，请重新签到（9001）"
    return None


def check_current(session: Session, institution: InstitutionView, sign_no: str, today: date) -> None:
    """Refuse a ``sign_no`` that is not a current sign-in of this institution."""
    row = _own(session, institution, sign_no, "sign_no")
    why = _stale(row, today)
    if why is not None:
        raise FieldError("sign_no", f"签到编号 {sign_no} 已失效：{why}", code="nhsa.sign_no.stale")


def sign_out(
    session: Session, institution: InstitutionView, *, sign_no: str, path: str, msgid: str, now: datetime
) -> SignIn:
    """Sign a current sign-in out."""
    row = _own(session, institution, sign_no, path)
    if row.signed_out_at is not None:
        raise FieldError(path, f"签到编号 {sign_no} 已签退", code="nhsa.sign_no.stale")
    row.signed_out_at = now
    row.sign_out_msgid = msgid
    session.flush()
    return row
