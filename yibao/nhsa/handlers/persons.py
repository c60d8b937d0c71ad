"""1101 person information, 2001 benefit check: read from the person's records, statuses and account.

A person is found by their resident ID card number (``mdtrt_cert_type`` 02) or the social-security card
number on their record (03); the electronic voucher (01) needs a voucher module yibao does not have. The
answer names the person by ``psn_no``, the number every later message uses.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from sqlalchemy import bindparam, select

from yibao.accounts.models import LedgerAccount, Purpose
from yibao.core.auth import Scope, rule
from yibao.core.dates import age_on, local_date
from yibao.core.errors import AppError, ValidationFailed
from yibao.core.ids import parse_id_number
from yibao.nhsa import codes
from yibao.nhsa.money import to_yuan
from yibao.nhsa.registry import Context, FieldError, Input, PersonRecords, transaction
from yibao.people import persons as people
from yibao.people.models import InsuranceRecord, RecordChange, Scheme, Status

PERSONS = rule(
    "nhsa.persons.read",
    "获取人员信息、待遇检查 / person information and benefit check (1101, 2001)",
    writes=False,
    institution=Scope.ANY,  # a patient may present at any designated institution
)

# trt_chk_type (yibao's own codes; the convention leaves them to the province).
CHECK_STATUS, CHECK_PERIOD, CHECK_PAID = "01", "02", "03"
CHECK_NAMES = {CHECK_STATUS: "参保状态", CHECK_PERIOD: "待遇享受期", CHECK_PAID: "缴费"}


def _find(ctx: Context, data: Input) -> PersonRecords:
    cert_type = data.text("mdtrt_cert_type", max_len=3)
    cert_no = data.text("mdtrt_cert_no", max_len=50)
    path = data.at("mdtrt_cert_no")
    if cert_type == codes.CERT_VOUCHER:
        raise FieldError(
            data.at("mdtrt_cert_type"),
            "暂不支持医保电子凭证（01），请使用居民身份证号（02）或社会保障卡号（03）",
        )
    if cert_type == codes.CERT_ID_CARD:
        try:
            idn = parse_id_number(cert_no, field=path).value
        except ValidationFailed as exc:
            raise FieldError(path, exc.message_zh.split("：", 1)[-1]) from None
        found = people.find_with_records(ctx.session, id_number=idn)
    elif cert_type == codes.CERT_SS_CARD:
        found = people.find_with_records(ctx.session, card_no=cert_no)
    else:
        raise FieldError(
            data.at("mdtrt_cert_type"), f"就诊凭证类型 {cert_type!r} 无效，应为 02（居民身份证）或 03（社会保障卡）"
        )
    if found is None:
        raise FieldError(path, "未查询到该就诊凭证对应的参保人")
    return PersonRecords(*found)


def _check_given(data: Input, found: PersonRecords) -> None:
    """Identity fields the HIS sent (often empty) must agree with the person found."""
    cert_type = data.text("psn_cert_type", max_len=3, required=False)
    certno = data.text("certno", max_len=50, required=False)
    if certno is not None and cert_type in (None, "01") and certno.upper() != found.person.id_number:
        raise FieldError(data.at("certno"), "证件号码与就诊凭证对应的参保人不一致")
    name = data.text("psn_name", max_len=50, required=False)
    if name is not None and name != found.person.name:
        raise FieldError(data.at("psn_name"), "姓名与就诊凭证对应的参保人不一致")


_BALANCE = select(LedgerAccount.balance).where(
    LedgerAccount.purpose == Purpose.MEMBER.value, LedgerAccount.owner_id == bindparam("person_id")
)


def _balance(ctx: Context, person_id: int) -> int:
    balance = ctx.session.connection().execute(_BALANCE, {"person_id": person_id}).scalar()
    return int(balance or 0)


def _paused_on(ctx: Context, record: InsuranceRecord) -> date | None:
    """The day a suspended or terminated record stopped (its last status change)."""
    if record.status == Status.NORMAL.value:
        return None
    changed = ctx.session.scalar(
        select(RecordChange.changed_at)
        .where(RecordChange.record_id == record.id, RecordChange.kind == "status")
        .order_by(RecordChange.id.desc())
        .limit(1)
    )
    if changed is None:
        return None
    return local_date(changed if changed.tzinfo else changed.replace(tzinfo=UTC))  # SQLite hands back naive UTC


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@transaction("1101", action=PERSONS, writes=False)
def person_info(ctx: Context, inp: Input) -> dict[str, Any]:
    """人员信息获取: data {mdtrt_cert_type*, mdtrt_cert_no*, ...} → baseinfo, insuinfo[], idetinfo[]."""
    data = inp.node("data")
    data.text("card_sn", max_len=50, required=False)
    data.datetime("begntime", required=False)
    found = _find(ctx, data)
    ctx.about(found)
    _check_given(data, found)
    p = found.person
    balance = _balance(ctx, p.id) if found.record(Scheme.EMPLOYEE) is not None else 0
    insuinfo = []
    for r in found.records:
        insuinfo.append(
            {
                "balc": to_yuan(balance if r.scheme == Scheme.EMPLOYEE.value else 0),
                "insutype": codes.insutype_of(r),
                "psn_type": codes.psn_type_of(r),
                "psn_insu_stas": codes.INSU_STAS[Status(r.status)],
                "psn_insu_date": _day(r.enrolled_on),
                "paus_insu_date": _day(_paused_on(ctx, r)),
                "cvlserv_flag": "0",
                "insuplc_admdvs": r.region_code,
                "emp_name": r.employer,
            }
        )
    return {
        "baseinfo": {
            "psn_no": p.psn_no,
            "psn_cert_type": "01",
            "certno": p.id_number,
            "psn_name": p.name,
            "gend": codes.GEND.get(p.sex, "9"),
            "naty": None,  # not recorded by yibao
            "brdy": p.birth_date.isoformat(),
            "age": age_on(p.birth_date, ctx.today),
        },
        "insuinfo": insuinfo,
        "idetinfo": [],  # yibao records no special identities (低保, 特困 ...)
    }


def _row(
    psn_no: str, kind: str, insutype: str, ok: bool, why: str, begn: date | None, end: date | None
) -> dict[str, Any]:
    return {
        "psn_no": psn_no,
        "trt_chk_type": kind,
        "fund_pay_type": codes.POOLED_FUND[insutype],
        "trt_enjymnt_flag": "1" if ok else "0",
        "begndate": _day(begn),
        "enddate": _day(end),
        "trt_chk_rslt": why,
    }


@transaction("2001", action=PERSONS, writes=False)
def benefit_check(ctx: Context, inp: Input) -> dict[str, Any]:
    """人员待遇享受检查: data {psn_no*, insutype*, med_type*, begntime*, ...} → trtinfo[] (one row per check)."""
    from yibao.premiums.contributions import require_paid_contribution

    data = inp.node("data")
    psn_no = data.text("psn_no", max_len=30)
    insutype = data.text("insutype", max_len=6)
    scheme = codes.read_insutype(insutype, data.at("insutype"))
    codes.read_med_type(data.text("med_type", max_len=6), data.at("med_type"))
    begntime = data.datetime("begntime")
    code = data.text("fixmedins_code", max_len=30, required=False)
    if code is not None and code != ctx.institution.code:
        raise FieldError(data.at("fixmedins_code"), f"与报文的定点医药机构编码 {ctx.institution.code} 不一致")
    found = ctx.person(psn_no, path=data.at("psn_no"), scheme=scheme)
    record = found.record(scheme)
    label = codes.INSUTYPE_NAME[insutype]
    if record is None:
        return {"trtinfo": [_row(psn_no, CHECK_STATUS, insutype, False, f"未参加{label}", None, None)]}
    day = local_date(begntime)
    status = Status(record.status)
    paused = _paused_on(ctx, record)
    rows = [
        _row(
            psn_no,
            CHECK_STATUS,
            insutype,
            status is Status.NORMAL,
            f"{label}{codes.STATUS_NAME[status]}" + ("" if status is Status.NORMAL else "，不享受医保待遇"),
            record.enrolled_on,
            paused,
        )
    ]
    started = record.benefits_from <= day
    rows.append(
        _row(
            psn_no,
            CHECK_PERIOD,
            insutype,
            started,
            "在待遇享受期内" if started else f"待遇自 {record.benefits_from} 起享受，就诊日期 {day} 尚未开始",
            record.benefits_from,
            paused,
        )
    )
    try:
        year = require_paid_contribution(ctx.session, found.person, scheme, day)
        rows.append(_row(psn_no, CHECK_PAID, insutype, True, f"已缴纳 {year} 年度费用", None, None))
    except AppError as exc:
        rows.append(_row(psn_no, CHECK_PAID, insutype, False, exc.message_zh, None, None))
    return {"trtinfo": rows}
