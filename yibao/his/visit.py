"""A whole visit as a hospital's system drives it, message by message, through :class:`yibao.his.Client`.

Outpatient: 9001 sign in, 1101 person, 2201 registration, 2203 diagnoses, 2204 fee lines, 2206
pre-settlement, 2207 settlement, 9002 sign out. Inpatient: 9001, 1101, 2401 admission, 2301 fee lines,
2402 discharge, 2303, 2304, 9002. The bill is read from a JSON or CSV file (one fee line a row:
``med_list_codg``, ``pric``, ``cnt``, optionally ``det_item_fee_sumamt``, ``fee_ocur_time``, ``name``); a
line without an amount gets price × quantity, half up to the fen, as a HIS computes it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from yibao.core import clock
from yibao.core.dates import CHINA_TZ
from yibao.his.client import Client, HisError

CENT = Decimal("0.01")


class BillError(ValueError):
    """A bill file that cannot be read (the message names the file, the row and the field)."""


@dataclass(frozen=True, slots=True)
class BillLine:
    """One fee line of a bill, as the hospital charges it."""

    med_list_codg: str
    pric: Decimal
    cnt: Decimal
    amount: Decimal
    fee_ocur_time: datetime | None = None
    name: str = ""


@dataclass(slots=True)
class VisitOptions:
    """What the hospital says about the visit beyond the bill."""

    med_type: str
    acct_used_flag: str = "0"
    insutype: str | None = None  # default: the person's current insurance from 1101
    diag_code: str = "J18.900"
    diag_name: str = "肺炎"
    begntime: datetime | None = None  # default: an hour ago (outpatient), three days ago (inpatient)
    endtime: datetime | None = None  # discharge, default now
    matn_type: str | None = None
    dscg_way: str = "1"
    ipt_otp_no: str | None = None


@dataclass(slots=True)
class VisitResult:
    """What the visit ended with: who, which visit, the pre-settlement and the settlement as answered."""

    psn_no: str
    psn_name: str
    insutype: str
    mdtrt_id: str
    lines: list[dict[str, Any]] = field(default_factory=list)  # the per-line result[] of the upload
    presettlement: dict[str, Any] = field(default_factory=dict)
    setlinfo: dict[str, Any] = field(default_factory=dict)
    setldetail: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``--json``): amounts keep their exact digits."""
        return {
            "psn_no": self.psn_no,
            "psn_name": self.psn_name,
            "insutype": self.insutype,
            "mdtrt_id": self.mdtrt_id,
            "result": self.lines,
            "presettlement": self.presettlement,
            "setlinfo": self.setlinfo,
            "setldetail": self.setldetail,
        }


def _decimal(value: Any, where: str, name: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise BillError(f"{where}.{name}: 不是数字 / not a number: {value!r}") from None
    if not d.is_finite():
        raise BillError(f"{where}.{name}: 不是数字 / not a number: {value!r}")
    return d


def _line(row: dict[str, Any], where: str) -> BillLine:
    code = str(row.get("med_list_codg") or row.get("code") or "").strip()
    if not code:
        raise BillError(f"{where}.med_list_codg: 缺少医保目录编码 / missing the catalogue code")
    pric = _decimal(row.get("pric"), where, "pric")
    cnt = _decimal(row.get("cnt", 1), where, "cnt")
    given = row.get("det_item_fee_sumamt")
    amount = (pric * cnt).quantize(CENT, ROUND_HALF_UP) if given in (None, "") else _decimal(given, where, "amount")
    when = row.get("fee_ocur_time")
    at = None
    if when not in (None, ""):
        try:
            at = datetime.strptime(str(when).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
        except ValueError:
            raise BillError(f"{where}.fee_ocur_time: 应为 yyyy-MM-dd HH:mm:ss / expected a time") from None
    return BillLine(code, pric, cnt, amount, at, str(row.get("name") or ""))


def read_bill(path: str | Path) -> list[BillLine]:
    """The fee lines of a JSON (a list, or ``{"feedetail": [...]}``) or CSV (with a header) bill."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BillError(f"{p}: 无法读取 / cannot read: {exc.strerror}") from None
    rows: Any
    if p.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        try:
            data = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise BillError(f"{p}: 不是有效的JSON / not JSON: {exc}") from None
        rows = data.get("feedetail", data.get("lines")) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise BillError(f"{p}: 应为费用明细的列表 / expected a list of fee lines")
    if not rows:
        raise BillError(f"{p}: 没有费用明细 / no fee lines")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BillError(f"{p}[{i}]: 应为对象 / expected an object")
        out.append(_line(row, f"{p.name}[{i}]"))
    return out


def _time(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


Progress = Callable[[str, str], None]


def _quiet(_infno: str, _what: str) -> None:
    return None


def _person(h: Client, cert_no: str, o: VisitOptions, say: Progress) -> tuple[str, str, str]:
    say("1101", "人员信息获取 / person")
    out = h.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": cert_no, "psn_cert_type": "01"}})
    base = out["baseinfo"]
    insutype = o.insutype
    if insutype is None:
        current = [i for i in out.get("insuinfo") or [] if str(i.get("psn_insu_stas")) == "1"]
        if not current:
            raise HisError("该人员无有效参保 / no current insurance")
        insutype = str(current[0]["insutype"])
    return str(base["psn_no"]), str(base.get("psn_name") or ""), insutype


def outpatient(
    h: Client, cert_no: str, bill: Sequence[BillLine], o: VisitOptions, *, say: Progress = _quiet
) -> VisitResult:
    """A whole outpatient visit, sign-in to sign-out; :class:`HisError` names the message that failed."""
    now = clock.now()
    begin = o.begntime or now - timedelta(hours=1)
    say("9001", "签到 / sign in")
    h.sign_in()
    try:
        psn_no, name, insutype = _person(h, cert_no, o, say)
        say("2201", "门诊挂号 / registration")
        reg = h.call(
            "2201",
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": insutype,
                    "begntime": _time(begin),
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": cert_no,
                    "ipt_otp_no": o.ipt_otp_no or f"MZ{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}",
                }
            },
        )["data"]
        mdtrt_id = str(reg["mdtrt_id"])
        say("2203", "就诊信息与诊断 / visit and diagnoses")
        h.call(
            "2203",
            {
                "mdtrtinfo": {
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "med_type": o.med_type,
                    "begntime": _time(begin),
                    "dise_codg": o.diag_code,
                    "dise_name": o.diag_name,
                },
                "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": o.diag_code, "diag_name": o.diag_name}],
            },
        )
        batch = f"B{now.astimezone(CHINA_TZ):%H%M%S}"
        feedetail = [
            {
                "feedetl_sn": str(i),
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "chrg_bchno": batch,
                "fee_ocur_time": _time(li.fee_ocur_time or begin),
                "med_list_codg": li.med_list_codg,
                "det_item_fee_sumamt": li.amount,
                "cnt": li.cnt,
                "pric": li.pric,
            }
            for i, li in enumerate(bill, 1)
        ]
        result = VisitResult(psn_no, name, insutype, mdtrt_id)
        say("2204", f"费用明细上传 {len(feedetail)} 条 / fee lines")
        result.lines = list(h.call("2204", {"feedetail": feedetail})["result"])
        ask = {
            "data": {
                "psn_no": psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": cert_no,
                "med_type": o.med_type,
                "medfee_sumamt": sum((li.amount for li in bill), Decimal("0.00")),
                "psn_setlway": "01",
                "mdtrt_id": mdtrt_id,
                "chrg_bchno": batch,
                "insutype": insutype,
                "acct_used_flag": o.acct_used_flag,
            }
        }
        _settle(h, ask, ("2206", "2207"), result, say)
    finally:
        say("9002", "签退 / sign out")
        h.sign_out()
    return result


def inpatient(
    h: Client, cert_no: str, bill: Sequence[BillLine], o: VisitOptions, *, say: Progress = _quiet
) -> VisitResult:
    """A whole stay, sign-in to sign-out: admission, fee lines, discharge, pre-settlement, settlement."""
    now = clock.now()
    begin = o.begntime or now - timedelta(days=3)
    end = o.endtime or now
    say("9001", "签到 / sign in")
    h.sign_in()
    try:
        psn_no, name, insutype = _person(h, cert_no, o, say)
        say("2401", "入院办理 / admission")
        info: dict[str, Any] = {
            "psn_no": psn_no,
            "insutype": insutype,
            "begntime": _time(begin),
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": cert_no,
            "med_type": o.med_type,
            "ipt_no": o.ipt_otp_no or f"ZY{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}",
            "adm_diag_dscr": o.diag_name,
        }
        if o.matn_type:
            info["matn_type"] = o.matn_type
        diag = {"psn_no": psn_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1}
        diag |= {"diag_code": o.diag_code, "diag_name": o.diag_name}
        mdtrt_id = str(h.call("2401", {"mdtrtinfo": info, "diseinfo": [diag]})["result"]["mdtrt_id"])
        result = VisitResult(psn_no, name, insutype, mdtrt_id)
        feedetail = [
            {
                "feedetl_sn": str(i),
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": o.med_type,
                "fee_ocur_time": _time(li.fee_ocur_time or begin + timedelta(hours=1)),
                "med_list_codg": li.med_list_codg,
                "det_item_fee_sumamt": li.amount,
                "cnt": li.cnt,
                "pric": li.pric,
            }
            for i, li in enumerate(bill, 1)
        ]
        say("2301", f"费用明细上传 {len(feedetail)} 条 / fee lines")
        result.lines = list(h.call("2301", {"feedetail": feedetail})["result"])
        say("2402", "出院办理 / discharge")
        h.call(
            "2402",
            {
                "dscginfo": {
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "insutype": insutype,
                    "endtime": _time(end),
                    "dise_codg": o.diag_code,
                    "dise_name": o.diag_name,
                    "dscg_way": o.dscg_way,
                },
                "diseinfo": [diag | {"mdtrt_id": mdtrt_id}],
            },
        )
        ask = {
            "data": {
                "psn_no": psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": cert_no,
                "medfee_sumamt": sum((li.amount for li in bill), Decimal("0.00")),
                "psn_setlway": "01",
                "mdtrt_id": mdtrt_id,
                "insutype": insutype,
                "acct_used_flag": o.acct_used_flag,
                "mid_setl_flag": "0",
                "dscgTime": _time(end),
            }
        }
        _settle(h, ask, ("2303", "2304"), result, say)
    finally:
        say("9002", "签退 / sign out")
        h.sign_out()
    return result


def _settle(h: Client, ask: dict[str, Any], infnos: tuple[str, str], result: VisitResult, say: Progress) -> None:
    pre, final = infnos
    say(pre, "预结算 / pre-settlement")
    result.presettlement = dict(h.call(pre, ask)["setlinfo"])
    say(final, "结算 / settlement")
    out = h.call(final, ask)
    result.setlinfo = dict(out["setlinfo"])
    result.setldetail = list(out["setldetail"])
