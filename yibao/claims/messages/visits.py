"""2201/2202/2203 outpatient registration, cancellation and diagnoses; 2401-2405 admission and discharge."""

from __future__ import annotations

from typing import Any

from yibao.claims import visits
from yibao.claims.messages.common import VISITS, details, diagnoses, insured, refusals
from yibao.claims.models import VisitKind
from yibao.claims.visits import Opening, normalise_med_type
from yibao.nhsa.registry import Context, FieldError, Input, transaction

CERT_TYPES = ("02", "03")
_OUTPATIENT_INFO = ("atddr_no", "dr_name", "dept_code", "dept_name", "caty")
_ADMISSION_INFO = (
    "coner_name", "tel", "medrcdno", "atddr_no", "chfpdr_name", "adm_diag_dscr", "adm_dept_codg", "adm_dept_name",
    "adm_bed", "main_cond_dscr", "geso_val", "fetts", "fetus_cnt", "birctrl_type",
)  # fmt: skip
_DISCHARGE_INFO = ("dscg_dept_codg", "dscg_dept_name", "dscg_bed", "cop_flag", "die_date")


def _cert_type(node: Input) -> str:
    value = node.text("mdtrt_cert_type", max_len=3)
    if value not in CERT_TYPES:
        raise FieldError(
            node.at("mdtrt_cert_type"), f"就诊凭证类型 {value!r} 无效，应为 02（居民身份证）或 03（社会保障卡）"
        )
    node.text("mdtrt_cert_no", max_len=50)
    return value


@transaction("2201", action=VISITS, writes=True)
def register_outpatient(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊挂号: data → data {mdtrt_id, psn_no, ipt_otp_no}."""
    data = inp.node("data")
    insutype = data.text("insutype", max_len=3)
    person = insured(ctx, data, insutype=insutype)
    opening = Opening(
        person=person,
        insutype=insutype,
        begntime=data.datetime("begntime"),
        mdtrt_cert_type=_cert_type(data),
        ipt_otp_no=data.text("ipt_otp_no", max_len=30),
        details=details(data, *_OUTPATIENT_INFO),
    )
    with refusals():
        v = visits.register_outpatient(ctx.session, institution=ctx.institution, opening=opening, msgid=ctx.msgid)
    return {"data": {"mdtrt_id": v.mdtrt_id, "psn_no": person.psn_no, "ipt_otp_no": v.ipt_otp_no}}


@transaction("2202", action=VISITS, writes=True)
def cancel_outpatient(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊挂号撤销."""
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        visits.cancel_outpatient(
            ctx.session,
            institution=ctx.institution,
            mdtrt_id=data.text("mdtrt_id", max_len=30),
            person=person,
            ipt_otp_no=data.text("ipt_otp_no", max_len=30),
        )
    return {}


@transaction("2203", action=VISITS, writes=True)
def record_outpatient(ctx: Context, inp: Input) -> dict[str, Any]:
    """门诊就诊信息上传: mdtrtinfo, diseinfo[]."""
    info = inp.node("mdtrtinfo")
    person = insured(ctx, info)
    with refusals():
        visits.record_outpatient(
            ctx.session,
            institution=ctx.institution,
            mdtrt_id=info.text("mdtrt_id", max_len=30),
            person=person,
            med_type=info.text("med_type", max_len=4),
            begntime=info.datetime("begntime"),
            diagnoses=diagnoses(
                inp.list("diseinfo", required=False),
                main_code=info.text("dise_codg", max_len=30, required=False),
                main_name=info.text("dise_name", max_len=200, required=False),
            ),
            details=details(info, "main_cond_dscr", "birctrl_type", "birctrl_matn_date", "dise_type_code"),
        )
    return {}


@transaction("2401", action=VISITS, writes=True)
def admit(ctx: Context, inp: Input) -> dict[str, Any]:
    """入院办理: mdtrtinfo, diseinfo[] → result {mdtrt_id, psn_no, ipt_otp_no}."""
    info = inp.node("mdtrtinfo")
    insutype = info.text("insutype", max_len=3)
    person = insured(ctx, info, insutype=insutype)
    with refusals():
        med_type, implied = normalise_med_type(
            info.text("med_type", max_len=4), field="mdtrtinfo.med_type", kind=VisitKind.INPATIENT
        )
    matn_type = info.text("matn_type", max_len=1, required=False, choices=visits.MATN_TYPES) or implied
    with refusals():
        v = visits.admit(
            ctx.session,
            institution=ctx.institution,
            opening=Opening(
                person=person,
                insutype=insutype,
                begntime=info.datetime("begntime"),
                mdtrt_cert_type=_cert_type(info),
                ipt_otp_no=info.text("ipt_no", max_len=30),
                med_type=med_type,
                matn_type=matn_type if med_type == "52" else None,
                diagnoses=diagnoses(
                    inp.list("diseinfo", required=False),
                    main_code=info.text("dscg_maindiag_code", max_len=30, required=False),
                    main_name=info.text("dscg_maindiag_name", max_len=200, required=False),
                ),
                details=details(info, *_ADMISSION_INFO),
            ),
            msgid=ctx.msgid,
        )
    return {"result": {"mdtrt_id": v.mdtrt_id, "psn_no": person.psn_no, "ipt_otp_no": v.ipt_otp_no}}


@transaction("2402", action=VISITS, writes=True)
def discharge(ctx: Context, inp: Input) -> dict[str, Any]:
    """出院办理: dscginfo, diseinfo[]."""
    info = inp.node("dscginfo")
    insutype = info.text("insutype", max_len=3)
    person = insured(ctx, info, insutype=insutype)
    with refusals():
        visits.discharge(
            ctx.session,
            institution=ctx.institution,
            mdtrt_id=info.text("mdtrt_id", max_len=30),
            person=person,
            insutype=insutype,
            endtime=info.datetime("endtime"),
            dscg_way=info.text("dscg_way", max_len=2),
            diagnoses=diagnoses(
                inp.list("diseinfo", required=False),
                main_code=info.text("dise_codg", max_len=30, required=False),
                main_name=info.text("dise_name", max_len=200, required=False),
            ),
            details=details(info, *_DISCHARGE_INFO),
        )
    return {}


@transaction("2403", action=VISITS, writes=True)
def change_admission(ctx: Context, inp: Input) -> dict[str, Any]:
    """入院信息变更: adminfo {mdtrt_id, psn_no, …changed fields}."""
    info = inp.node("adminfo")
    person = insured(ctx, info)
    changes: dict[str, Any] = details(info, *_ADMISSION_INFO)
    if info.has("begntime"):
        changes["begntime"] = info.datetime("begntime")
    with refusals():
        visits.change_admission(
            ctx.session,
            institution=ctx.institution,
            mdtrt_id=info.text("mdtrt_id", max_len=30),
            person=person,
            changes=changes,
        )
    return {}


@transaction("2404", action=VISITS, writes=True)
def cancel_admission(ctx: Context, inp: Input) -> dict[str, Any]:
    """入院撤销 (no fee lines, no settlement left)."""
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        visits.cancel_admission(
            ctx.session, institution=ctx.institution, mdtrt_id=data.text("mdtrt_id", max_len=30), person=person
        )
    return {}


@transaction("2405", action=VISITS, writes=True)
def cancel_discharge(ctx: Context, inp: Input) -> dict[str, Any]:
    """出院撤销."""
    data = inp.node("data")
    person = insured(ctx, data)
    with refusals():
        visits.cancel_discharge(
            ctx.session, institution=ctx.institution, mdtrt_id=data.text("mdtrt_id", max_len=30), person=person
        )
    return {}
