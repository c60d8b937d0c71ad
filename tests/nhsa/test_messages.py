"""msgid idempotency, sign-ins (9001/9002 and sign_no), designation, and the audit of messages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.nhsa.conftest import Gateway, writes
from tests.nhsa.helpers import create_institution, create_insured, his
from yibao.core import clock
from yibao.core.audit import AuditEvent
from yibao.core.auth import system_principal
from yibao.core.ids import find_full_ids
from yibao.core.unit import unit_of_work
from yibao.his import HisError
from yibao.institutions import service as institutions

SIGN_IN = {"signIn": {"opter_no": "001"}}


def _data(idn: str) -> dict[str, Any]:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": idn}}


# ---- msgid -----------------------------------------------------------------------------------------


def test_same_msgid_same_message_gets_the_first_answer(gw: Gateway) -> None:
    first = gw.his.send("9001", SIGN_IN, msgid="H53010000001202305011200000001")
    before = writes(gw.engine)
    again = gw.his.send("9001", SIGN_IN, msgid="H53010000001202305011200000001")
    assert again.envelope == first.envelope  # the same sign_no, refmsgid and times: nothing happened again
    after = writes(gw.engine)
    assert after["signins"] == before["signins"] and after["msgids"] == before["msgids"]


@pytest.mark.parametrize(
    ("infno", "payload"), [("9001", {"signIn": {"opter_no": "002"}}), ("9999", {"signIn": {"opter_no": "001"}})]
)
def test_same_msgid_other_message_is_refused(gw: Gateway, infno: str, payload: dict[str, Any]) -> None:
    assert gw.his.send("9001", SIGN_IN, msgid="M1").ok
    before = writes(gw.engine)
    answer = gw.his.send(infno, payload, msgid="M1")
    assert not answer.ok
    assert answer.err_msg is not None
    if infno == "9001":
        assert answer.err_msg.startswith("msgid 已使用")
    assert writes(gw.engine)["signins"] == before["signins"]


def test_a_refused_message_leaves_its_msgid_free(gw: Gateway) -> None:
    idn, psn_no = create_insured(gw.engine)
    assert not gw.his.send("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": idn}}, msgid="M2").ok
    answer = gw.his.send("1101", _data(idn), msgid="M2")
    assert answer.ok and answer.output["baseinfo"]["psn_no"] == psn_no


def test_msgids_belong_to_their_institution(gw: Gateway) -> None:
    other = create_institution(gw.engine)
    assert gw.his.send("9001", SIGN_IN, msgid="SHARED").ok
    assert his(gw.http, other).send("9001", SIGN_IN, msgid="SHARED").ok


# ---- sign-ins --------------------------------------------------------------------------------------


def test_sign_no_may_be_absent_and_is_checked_when_given(gw: Gateway) -> None:
    idn, _ = create_insured(gw.engine)
    assert gw.his.send("1101", _data(idn)).ok  # no sign_no at all
    sign_no = gw.his.sign_in()
    assert gw.his.send("1101", _data(idn)).ok  # a current one
    gw.his.sign_out()
    stale = gw.his.send("1101", _data(idn), sign_no=sign_no)
    assert stale.err_msg == f"sign_no: 签到编号 {sign_no} 已失效：已签退"
    with pytest.raises(HisError, match="已签退"):
        gw.his.call("9002", {"signOut": {"sign_no": sign_no}})


def test_sign_no_lasts_until_the_end_of_the_china_day(gw: Gateway) -> None:
    idn, _ = create_insured(gw.engine)
    at = datetime(2024, 3, 1, 15, 59, tzinfo=UTC)  # 23:59 in Kunming
    with clock.use(clock.FixedClock(at)) as c:
        sign_no = gw.his.sign_in()
        assert gw.his.send("1101", _data(idn)).ok
        c.advance(timedelta(minutes=2))  # 00:01 the next day
        answer = gw.his.send("1101", _data(idn))
    assert (
        answer.err_msg
        == f"sign_no: 签到编号 {sign_no} 已失效：签到日期为 2024-03-01，已过当日有效期，请重新签到（9001）"
    )


def test_foreign_and_unknown_sign_no(gw: Gateway) -> None:
    idn, _ = create_insured(gw.engine)
    other = his(gw.http, create_institution(gw.engine))
    theirs = other.sign_in()
    before = writes(gw.engine)
    for sign_no in (theirs, "NOSUCHSIGNIN"):
        answer = gw.his.send("1101", _data(idn), sign_no=sign_no)
        assert answer.err_msg == f"sign_no: 签到编号 {sign_no} 不是本机构的签到"
    with pytest.raises(HisError, match=r"input\.signOut\.sign_no: 签到编号 .* 不是本机构的签到"):
        gw.his.call("9002", {"signOut": {"sign_no": theirs}})
    assert writes(gw.engine)["signed_out"] == before["signed_out"]


def test_sign_in_needs_an_operator(gw: Gateway) -> None:
    answer = gw.his.send("9001", {"signIn": {"mac": "00-11"}})
    assert answer.err_msg == "input.signIn.opter_no: 必填项缺失"
    answer = gw.his.send("9001", {"signIn": {"opter_no": "0" * 31}})
    assert answer.err_msg == "input.signIn.opter_no: 长度不能超过30个字符"


# ---- designation -----------------------------------------------------------------------------------


def test_not_yet_designated(gw: Gateway) -> None:
    later = create_institution(gw.engine, designated_from=date(2099, 1, 1))
    answer = his(gw.http, later).send("9001", SIGN_IN)
    assert answer.status == 200
    assert answer.err_msg == f"定点医药机构 {later.code} 的定点资格自 2099-01-01 起生效，尚未生效"


def test_designation_ended(gw: Gateway) -> None:
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        institutions.end_designation(s, gw.creds.code, on=clock.today())
    before = writes(gw.engine)
    answer = gw.his.send("9001", SIGN_IN)
    last = clock.today() - timedelta(days=1)
    assert answer.err_msg == f"定点医药机构 {gw.creds.code} 的定点资格已于 {last} 终止"
    assert writes(gw.engine)["signins"] == before["signins"]


def test_suspended_institution(gw: Gateway) -> None:
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        institutions.suspend(s, gw.creds.code, reason="飞行检查")
    assert gw.his.send("9001", SIGN_IN).err_msg == f"定点医药机构 {gw.creds.code} 已暂停医保服务"
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        institutions.reinstate(s, gw.creds.code)
    assert gw.his.send("9001", SIGN_IN).ok


# ---- audit -----------------------------------------------------------------------------------------


def _audit(gw: Gateway, actor: str) -> list[AuditEvent]:
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.actor == actor).order_by(AuditEvent.id)))


def test_messages_are_audited_without_their_bodies(gw: Gateway) -> None:
    idn, psn_no = create_insured(gw.engine)
    ok = gw.his.send("1101", _data(idn))
    refused = gw.his.send("1101", {"data": {"mdtrt_cert_type": "09", "mdtrt_cert_no": idn}})
    unknown = gw.his.send("9999", {})
    events = _audit(gw, gw.creds.code)
    assert [(e.action, e.outcome) for e in events] == [
        ("nhsa.persons.read", "ok"),
        ("nhsa.persons.read", "failed:nhsa.bad_field"),
        ("nhsa.message", "failed:nhsa.unknown_infno"),
    ]
    for e, answer, infno in zip(events, (ok, refused, unknown), ("1101", "1101", "9999"), strict=True):
        assert e.actor_role == "institution"
        assert json.loads(e.detail or "{}") == {"infno": infno}
        assert e.request_id == answer.msgid and e.path == "/fsi/api/rsfComIfsService/callService"
        assert "530100" in (e.subject_regions or "")
        assert not find_full_ids(e.detail or "") and psn_no not in (e.detail or "")
    assert events[0].subject == idn[:6] + "********" + idn[-4:]


def test_signature_failures_are_audited(gw: Gateway) -> None:
    gw.raw(gw.envelope("9001", SIGN_IN), secret="wrong")
    events = _audit(gw, gw.creds.paasid)
    assert [(e.action, e.outcome, e.actor_role) for e in events][-1] == (
        "nhsa.signature",
        "failed:nhsa.signature.bad",
        "anonymous",
    )


def test_a_msgid_holding_an_id_number_is_masked_in_the_audit(gw: Gateway) -> None:
    from tests.factories import new_id

    idn = new_id()
    answer = gw.his.send("9001", SIGN_IN, msgid=f"X{idn}")
    assert answer.ok
    [event] = [e for e in _audit(gw, gw.creds.code) if e.action == "nhsa.sign"]
    assert event.request_id == f"X{idn[:6]}********{idn[-4:]}"
