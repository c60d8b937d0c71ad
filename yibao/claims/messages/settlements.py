"""2206/2207/2208 outpatient and 2303/2304/2305 inpatient (pre-)settlement and reversal, 2601, 5203, and the
reconciliations: 3201 of totals, 9101 / 3202 / 9102 of details through files."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from sqlalchemy import select

from yibao.claims import reconciliation, reversal, settlement, statements
from yibao.claims.errors import NoSettlement
from yibao.claims.messages.common import (
    PRESETTLE,
    QUERY,
    RECONCILE,
    SETTLE,
    STATEMENTS,
    insured,
    insured_with_records,
    refusals,
    wire,
)
from yibao.claims.models import Diagnosis, Settlement, SettlementState, StatementFileKind, Visit, VisitKind
from yibao.claims.settlement import SettleIn
from yibao.claims.visits import aware
from yibao.core.dates import local_date
from yibao.nhsa.registry import Context, FieldError, FileAnswer, Input, transaction


def _request(ctx: Context, data: Input, kind: VisitKind) -> SettleIn:
    insutype = data.text("insutype", max_len=3)
    found = insured_with_records(ctx, data, insutype=insutype)
    cert = data.text("mdtrt_cert_type", max_len=3)
    data.text("mdtrt_cert_no", max_len=50)
    outpatient = kind is VisitKind.OUTPATIENT
    # The totals a HIS sends besides medfee_sumamt are informative: read (so that a malformed one is named),
    # never used; yibao answers with its own, computed from the uploaded lines.
    for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
        data.money(name, required=False)
    if not outpatient:
        data.datetime("dscgTime", required=False)
    return SettleIn(
        kind=kind,
        mdtrt_id=data.text("mdtrt_id", max_len=30),
        person=found.person,
        records=tuple(found.records),
        insutype=insutype,
        medfee_sumamt=data.money("medfee_sumamt"),
        acct_used_flag=data.text("acct_used_flag", max_len=1),
        psn_setlway=data.text("psn_setlway", max_len=2),
        med_type=data.text("med_type", max_len=4) if outpatient else None,
        mid_setl_flag="0" if outpatient else data.text("mid_setl_flag", max_len=1),
        chrg_bchno=data.text("chrg_bchno", max_len=30) if outpatient else None,
        mdtrt_cert_type=cert,
        invono=data.text("invono", max_len=30, required=False),
    )


def _pre(ctx: Context, inp: Input, kind: VisitKind) -> dict[str, Any]:
    req = _request(ctx, inp.node("data"), kind)
    with refusals():
        out = settlement.pre_settle(ctx.session, institution=ctx.institution, req=req)
    return {"setlinfo": wire(out.setlinfo), "setldetail": wire(out.setldetail)}


def _settle(ctx: Context, inp: Input, kind: VisitKind) -> dict[str, Any]:
    req = _request(ctx, inp.node("data"), kind)
    with refusals():
        out = settlement.settle(ctx.session, institution=ctx.institution, req=req, msgid=ctx.msgid)
    return {"setlinfo": wire(out.setlinfo), "setldetail": wire(out.setldetail)}


def _reverse(ctx: Context, inp: Input, kind: VisitKind) -> dict[str, Any]:
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        out = reversal.reverse(
            ctx.session,
            institution=ctx.institution,
            setl_id=data.text("setl_id", max_len=30),
            mdtrt_id=data.text("mdtrt_id", max_len=30),
            person=person,
            msgid=ctx.msgid,
            kind=kind,
        )
    return {"setlinfo": wire(out.setlinfo), "setldetail": wire(out.setldetail)}


@transaction("2206", action=PRESETTLE, writes=False)
def outpatient_presettle(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊预结算: computes the answer, stores nothing."""
    return _pre(ctx, inp, VisitKind.OUTPATIENT)


@transaction("2207", action=SETTLE, writes=True)
def outpatient_settle(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊结算: data → setlinfo, setldetail[]."""
    return _settle(ctx, inp, VisitKind.OUTPATIENT)


@transaction("2208", action=SETTLE, writes=True)
def outpatient_reverse(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊结算撤销: the settlement's amounts negated."""
    return _reverse(ctx, inp, VisitKind.OUTPATIENT)


@transaction("2303", action=PRESETTLE, writes=False)
def inpatient_presettle(ctx: Context, inp: Input) -> dict[str, Any]:
    """住院预结算: computes the answer, stores nothing."""
    return _pre(ctx, inp, VisitKind.INPATIENT)


@transaction("2304", action=SETTLE, writes=True)
def inpatient_settle(ctx: Context, inp: Input) -> dict[str, Any]:
    """住院结算: data → setlinfo, setldetail[]."""
    return _settle(ctx, inp, VisitKind.INPATIENT)


@transaction("2305", action=SETTLE, writes=True)
def inpatient_reverse(ctx: Context, inp: Input) -> dict[str, Any]:
    """住院结算撤销: the settlement's amounts negated."""
    return _reverse(ctx, inp, VisitKind.INPATIENT)


@transaction("2601", action=SETTLE, writes=True)
def reverse_message(ctx: Context, inp: Input) -> dict[str, Any]:
    """冲正交易: reverses the 2207, 2304 or 2401 of ``omsgid`` whose answer the hospital never got."""
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        reversal.reverse_message(
            ctx.session,
            institution=ctx.institution,
            person=person,
            omsgid=data.text("omsgid", max_len=30),
            oinfno=data.text("oinfno", max_len=4),
            msgid=ctx.msgid,
        )
    return {}


@transaction("5203", action=QUERY, writes=False)
def settlement_query(ctx: Context, inp: Input) -> dict[str, Any]:
    """结算信息查询: data {psn_no, setl_id, mdtrt_id} → setlinfo, setldetail[]."""
    data = inp.node("data")
    person = insured(ctx, data)
    setl_id = data.text("setl_id", max_len=30)
    mdtrt_id = data.text("mdtrt_id", max_len=30)
    row = ctx.session.scalar(select(Settlement).where(Settlement.setl_id == setl_id))
    visit = ctx.session.get(Visit, row.visit_id) if row is not None else None
    if row is None or visit is None or row.institution_code != ctx.institution.code or row.person_id != person.id:
        raise NoSettlement(f"本机构没有该参保人的结算记录 setl_id={setl_id}", f"no settlement {setl_id} here")
    if visit.mdtrt_id != mdtrt_id:
        raise FieldError(data.at("mdtrt_id"), f"结算 {setl_id} 不属于就诊 {mdtrt_id}")
    info: dict[str, Any] = json.loads(row.setlinfo)
    main = ctx.session.scalar(
        select(Diagnosis.diag_code)
        .where(Diagnosis.visit_id == visit.id, Diagnosis.valid)
        .order_by(Diagnosis.main.desc(), Diagnosis.id)
    )
    info |= {
        "psn_pay": info["psn_part_amt"],
        "cash_payamt": info["psn_cash_pay"],
        "refd_setl_flag": "1" if row.state == SettlementState.REVERSED.value else "0",
        "year": str(local_date(aware(row.setl_time)).year),
        "fixmedins_code": ctx.institution.code,
        "fixmedins_name": ctx.institution.name,
        "begndate": local_date(aware(visit.begntime)).isoformat(),
        "enddate": local_date(aware(visit.endtime)).isoformat() if visit.endtime else None,
        "hosp_lv": str(ctx.institution.level) if ctx.institution.level else None,
        "dise_codg": main,
        "invono": row.invono,
    }
    return {"setlinfo": wire(info), "setldetail": wire(json.loads(row.setldetail))}


@transaction("3201", action=RECONCILE, writes=False)
def reconcile_totals(ctx: Context, inp: Input) -> dict[str, Any]:
    """对总账: the institution's totals of a period against yibao's → stmtinfo {setl_optins, stmt_rslt, stmt_rslt_dscr}."""
    data = inp.node("data")
    period = reconciliation.Period(
        insutype=data.text("insutype", max_len=3, choices=("310", "390")),
        clr_type=data.text("clr_type", max_len=2, choices=("11", "14", "21")),
        setl_optins=data.text("setl_optins", max_len=6),
        begin=data.date("stmt_begndate"),
        end=data.date("stmt_enddate"),
    )
    theirs = reconciliation.Totals(
        medfee=data.money("medfee_sumamt", negative=True),
        fund=data.money("fund_pay_sumamt", negative=True),
        acct=data.money("acct_pay", negative=True),
        count=data.integer("fixmedins_setl_cnt", lo=0, hi=10**9),
    )
    if period.setl_optins != ctx.institution.region:
        raise FieldError(data.at("setl_optins"), f"清算经办机构应为本机构所在统筹区 {ctx.institution.region}")
    with refusals():
        ours = reconciliation.totals(ctx.session, ctx.institution, period)
    result, why = reconciliation.compare(ours, theirs)
    return {"stmtinfo": {"setl_optins": period.setl_optins, "stmt_rslt": result, "stmt_rslt_dscr": why}}


def _own_code(ctx: Context, node: Input) -> None:
    code = node.text("fixmedins_code", max_len=30)
    if code.lower() == "plc":  # the convention's code for the platform's catalogue files
        raise FieldError(node.at("fixmedins_code"), "本平台不以文件提供目录，请用 1312 分页查询目录")
    if code != ctx.institution.code:
        raise FieldError(node.at("fixmedins_code"), f"{code} 不是本机构编码 {ctx.institution.code}")


def _file_bytes(node: Input, name: str) -> bytes:
    """A file sent as base64 text; line breaks and spaces are dropped (older Java encoders wrap at 76)."""
    value = node.raw(name)
    if value is None:
        raise FieldError(node.at(name), "必填项缺失")
    if not isinstance(value, str):
        raise FieldError(node.at(name), "应为文件内容的Base64编码字符串")
    text = "".join(value.split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise FieldError(node.at(name), "不是有效的Base64编码") from None


@transaction("9101", action=STATEMENTS, writes=True)
def upload_file(ctx: Context, inp: Input) -> dict[str, Any]:
    """文件上传: fsUploadIn {in (base64), filename, fixmedins_code} → output {file_qury_no, filename, dld_endtime}.

    Only detail files for 3202 are taken; each is checked whole before it is kept.
    """
    node = inp.node("fsUploadIn")
    _own_code(ctx, node)
    filename = node.text("filename", max_len=200)
    content = _file_bytes(node, "in")
    try:
        kept = reconciliation.keep_upload(
            ctx.session, ctx.institution, filename=filename, content=content, msgid=ctx.msgid, now=ctx.now
        )
    except statements.BadFile as exc:
        raise FieldError(node.at("in"), exc.reason) from None
    return {
        "file_qury_no": kept.file_qury_no,
        "filename": kept.filename,
        "dld_endtime": reconciliation.dld_endtime(kept),
    }


@transaction("3202", action=STATEMENTS, writes=True)
def reconcile_details(ctx: Context, inp: Input) -> dict[str, Any]:
    """对明细账: an uploaded file against yibao's settlements of the period → fileinfo of the result file."""
    data = inp.node("data")
    period = statements.Period(
        clr_type=data.text("clr_type", max_len=2, choices=("11", "14", "21")),
        setl_optins=data.text("setl_optins", max_len=6),
        begin=data.date("stmt_begndate"),
        end=data.date("stmt_enddate"),
    )
    file_qury_no = data.text("file_qury_no", max_len=30)
    # The period's totals are the institution's, as in 3201; the comparison goes row by row, so they are
    # read (a malformed one is named) and not compared here.
    for name in ("medfee_sumamt", "fund_pay_sumamt", "cash_payamt"):
        data.money(name, negative=True)
    data.integer("fixmedins_setl_cnt", lo=0, hi=10**9)
    data.text("refd_setl_flag", max_len=3, required=False, choices=("0", "1"))
    if period.setl_optins != ctx.institution.region:
        raise FieldError(data.at("setl_optins"), f"清算经办机构应为本机构所在统筹区 {ctx.institution.region}")
    try:
        with refusals():
            done = reconciliation.reconcile_details(
                ctx.session, ctx.institution, period, file_qury_no=file_qury_no, msgid=ctx.msgid, now=ctx.now
            )
    except reconciliation.NoFile as exc:
        raise FieldError(data.at("file_qury_no"), exc.message_zh) from None
    kept = done.file
    return {
        "fileinfo": {
            "file_qury_no": kept.file_qury_no,
            "filename": kept.filename,
            "dld_endtime": reconciliation.dld_endtime(kept),
        }
    }


@transaction("9102", action=STATEMENTS, writes=False)
def download_file(ctx: Context, inp: Input) -> FileAnswer:
    """文件下载: fsDownloadIn {file_qury_no, filename, fixmedins_code} → the result file itself (a zip)."""
    node = inp.node("fsDownloadIn")
    file_qury_no = node.text("file_qury_no", max_len=30)
    filename = node.text("filename", max_len=200)
    _own_code(ctx, node)
    try:
        row = reconciliation.find_file(
            ctx.session, ctx.institution, file_qury_no, StatementFileKind.RESULT, ctx.now, filename=filename
        )
    except reconciliation.NoFile as exc:
        raise FieldError(node.at("file_qury_no"), exc.message_zh) from None
    return FileAnswer(row.content, row.filename)
