"""1101 person information, 2001 benefit check, 5206 accumulations: answers read from the person's records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.nhsa.conftest import Gateway
from tests.nhsa.helpers import create_insured
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.unit import unit_of_work
from yibao.people import persons as people
from yibao.people import records
from yibao.people.models import Scheme, Status


def _1101(gw: Gateway, cert_type: str, cert_no: Any, **more: Any) -> Any:
    return gw.his.send("1101", {"data": {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no, **more}})


def _status(gw: Gateway, idn: str, scheme: Scheme, to: Status) -> None:
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        records.change_status(s, id_number=idn, scheme=scheme, to=to, reason="测试", actor="test")


def test_person_by_id_card(gw: Gateway) -> None:
    idn, psn_no = create_insured(gw.engine)
    out = _1101(gw, "02", idn).output
    base = out["baseinfo"]
    assert base == {
        "psn_no": psn_no,
        "psn_cert_type": "01",
        "certno": idn,
        "psn_name": "张三",
        "gend": "1",
        "naty": None,
        "brdy": "1990-01-01",
        "age": base["age"],
    }
    assert base["age"] >= 34
    [insu] = out["insuinfo"]
    assert insu == {
        "balc": Decimal("0.00"),
        "insutype": "390",
        "psn_type": "1401",
        "psn_insu_stas": "1",
        "psn_insu_date": "2022-09-05",
        "paus_insu_date": None,
        "cvlserv_flag": "0",
        "insuplc_admdvs": "530100",
        "emp_name": None,
    }
    assert out["idetinfo"] == []
    assert _1101(gw, "02", idn.lower()).ok  # the check letter in either case


def test_employee_with_account_balance(gw: Gateway) -> None:
    from yibao.accounts import balances, payments

    idn, _ = create_insured(gw.engine, scheme="employee")
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        balances.open_account(s, id_number=idn)
        payments.credit_contribution(s, id_number=idn, amount=123_45, period="2022-09", source="tax", key=f"k-{idn}")
    [insu] = _1101(gw, "02", idn).output["insuinfo"]
    assert insu["insutype"] == "310" and insu["psn_type"] == "11" and insu["emp_name"] == "某公司"
    assert insu["balc"] == Decimal("123.45")


def test_person_by_social_security_card(gw: Gateway) -> None:
    card = f"K{gw.creds.code[1:]}"
    _, psn_no = create_insured(gw.engine, card_no=card)
    assert _1101(gw, "03", card).output["baseinfo"]["psn_no"] == psn_no
    assert _1101(gw, "03", "KNOBODY00000").err_msg == "input.data.mdtrt_cert_no: 未查询到该就诊凭证对应的参保人"


@pytest.mark.parametrize(
    ("cert_type", "cert_no", "err_msg"),
    [
        (
            "01",
            "voucher-token",
            "input.data.mdtrt_cert_type: 暂不支持医保电子凭证（01），请使用居民身份证号（02）或社会保障卡号（03）",
        ),
        ("09", "x", "input.data.mdtrt_cert_type: 就诊凭证类型 '09' 无效，应为 02（居民身份证）或 03（社会保障卡）"),
        ("02", "53010219900101003", "input.data.mdtrt_cert_no: 身份证号应为18位（末位可为X）"),
        ("02", "530102199002300036", "input.data.mdtrt_cert_no: 身份证号中的出生日期不存在"),
        ("02", "５30102199001010036", "input.data.mdtrt_cert_no: 只能使用半角数字"),
        ("02", "", "input.data.mdtrt_cert_no: 必填项缺失"),
        (None, "x", "input.data.mdtrt_cert_type: 必填项缺失"),
    ],
)
def test_refused_vouchers(gw: Gateway, cert_type: str | None, cert_no: str, err_msg: str) -> None:
    answer = _1101(gw, cert_type, cert_no)  # type: ignore[arg-type]
    assert answer.err_msg is not None and answer.err_msg.startswith(err_msg), answer.err_msg


def test_unknown_person_and_mismatches(gw: Gateway) -> None:
    from tests.factories import new_id

    assert _1101(gw, "02", new_id()).err_msg == "input.data.mdtrt_cert_no: 未查询到该就诊凭证对应的参保人"
    idn, _ = create_insured(gw.engine)
    assert _1101(gw, "02", idn, certno=new_id()).err_msg == "input.data.certno: 证件号码与就诊凭证对应的参保人不一致"
    assert _1101(gw, "02", idn, psn_name="李四").err_msg == "input.data.psn_name: 姓名与就诊凭证对应的参保人不一致"
    assert _1101(gw, "02", idn, certno=idn, psn_name="张三", psn_cert_type="01").ok


def test_suspended_record_in_1101(gw: Gateway) -> None:
    idn, _ = create_insured(gw.engine)
    _status(gw, idn, Scheme.RESIDENT, Status.SUSPENDED)
    [insu] = _1101(gw, "02", idn).output["insuinfo"]
    assert insu["psn_insu_stas"] == "2" and insu["paus_insu_date"] is not None


def _2001(gw: Gateway, psn_no: str, /, insutype: str = "390", **more: Any) -> Any:
    data = {"psn_no": psn_no, "insutype": insutype, "med_type": "11", "begntime": "2023-05-01 09:00:00", **more}
    return gw.his.send("2001", {"data": data})


def _flags(answer: Any) -> dict[str, tuple[str, str]]:
    assert answer.ok, answer.err_msg
    return {r["trt_chk_type"]: (r["trt_enjymnt_flag"], r["trt_chk_rslt"]) for r in answer.output["trtinfo"]}


def test_benefit_check_normal(gw: Gateway) -> None:
    _, psn_no = create_insured(gw.engine)
    rows = _2001(gw, psn_no).output["trtinfo"]
    assert {r["fund_pay_type"] for r in rows} == {"390100"} and {r["psn_no"] for r in rows} == {psn_no}
    assert _flags(_2001(gw, psn_no)) == {
        "01": ("1", "城乡居民基本医疗保险正常参保"),
        "02": ("1", "在待遇享受期内"),
        "03": ("1", "已缴纳 2023 年度费用"),
    }


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        (Status.SUSPENDED, "城乡居民基本医疗保险暂停参保，不享受医保待遇"),
        (Status.TERMINATED, "城乡居民基本医疗保险终止参保，不享受医保待遇"),
    ],
)
def test_benefit_check_suspended_or_terminated(gw: Gateway, to: Status, reason: str) -> None:
    idn, psn_no = create_insured(gw.engine)
    _status(gw, idn, Scheme.RESIDENT, to)
    assert _flags(_2001(gw, psn_no))["01"] == ("0", reason)


def test_benefit_check_unpaid_not_started_not_enrolled(gw: Gateway) -> None:
    _, unpaid = create_insured(gw.engine, paid=False)
    flag, why = _flags(_2001(gw, unpaid))["03"]
    assert flag == "0" and "未缴纳 2023 年度城乡居民医保费用" in why
    _, psn_no = create_insured(gw.engine)
    assert _flags(_2001(gw, psn_no, begntime="2022-09-01 08:00:00"))["02"] == (
        "0",
        "待遇自 2022-09-05 起享受，就诊日期 2022-09-01 尚未开始",
    )
    assert _flags(_2001(gw, psn_no, insutype="310")) == {"01": ("0", "未参加职工基本医疗保险")}


@pytest.mark.parametrize(
    ("more", "err_msg"),
    [
        ({"insutype": "391"}, "input.data.insutype: 险种类型 '391' 无效"),
        ({"med_type": "99"}, "input.data.med_type: 医疗类别 '99' 无效"),
        ({"begntime": "2023-13-01 09:00:00"}, "input.data.begntime: 时间不存在"),
        ({"begntime": "null"}, "input.data.begntime: 必填项缺失"),
        ({"fixmedins_code": "H00000000000"}, "input.data.fixmedins_code: 与报文的定点医药机构编码"),
        ({"psn_no": "NOSUCHPERSON"}, "input.data.psn_no: 未查询到人员编号 NOSUCHPERSON 的参保人"),
    ],
)
def test_benefit_check_refusals(gw: Gateway, more: dict[str, Any], err_msg: str) -> None:
    _, psn_no = create_insured(gw.engine)
    answer = _2001(gw, psn_no, **more)
    assert answer.err_msg is not None and answer.err_msg.startswith(err_msg), answer.err_msg


@pytest.mark.parametrize("med_type", ["11", "14", "21", "2101", "52", "2106", "2107"])
def test_medical_types(gw: Gateway, med_type: str) -> None:
    _, psn_no = create_insured(gw.engine)
    assert _2001(gw, psn_no, med_type=med_type).ok


def test_insured_region_must_be_the_persons(gw: Gateway) -> None:
    _, psn_no = create_insured(gw.engine, region="532900")
    data = {"psn_no": psn_no, "insutype": "390", "med_type": "11", "begntime": "2023-05-01 09:00:00"}
    wrong = gw.his.send("2001", {"data": data}, insuplc_admdvs="530100")
    assert wrong.err_msg == "insuplc_admdvs: 参保地 530100 与参保人的参保统筹区（390） 532900 不一致"
    assert gw.his.send("2001", {"data": data}, insuplc_admdvs="532900").ok
    assert gw.his.send("2001", {"data": data}, insuplc_admdvs="").ok  # empty before 1101: absent
    wrong = gw.his.send("5206", {"data": {"psn_no": psn_no, "cum_ym": "202305"}}, insuplc_admdvs="530100")
    assert wrong.err_msg == "insuplc_admdvs: 参保地 530100 与参保人的参保统筹区 532900 不一致"


def test_accumulations(gw: Gateway) -> None:
    _, resident = create_insured(gw.engine)
    rows = gw.his.send("5206", {"data": {"psn_no": resident, "cum_ym": "202305"}}).output["cuminfo"]
    assert [(r["insutype"], r["year"], r["cum_ym"], r["cum_type_code"], r["cum"]) for r in rows] == [
        ("390", "2023", "202305", code, Decimal("0.00"))
        for code in ("FUND_PAID", "CATA_BASE", "GEN_OUTP_PAID", "SPEC_OUTP_MONTH")
    ]
    assert all(r["cum_type_name"] for r in rows)
    rows = gw.his.send("5206", {"data": {"psn_no": resident, "cum_ym": "202211"}}).output["cuminfo"]
    assert {r["year"] for r in rows} == {"2023"}  # 2022-10..12 is the 2023 contribution's short year
    _, employee = create_insured(gw.engine, scheme="employee")
    rows = gw.his.send("5206", {"data": {"psn_no": employee, "cum_ym": "2023-05"}}).output["cuminfo"]
    assert [(r["insutype"], r["cum_type_code"]) for r in rows] == [
        ("310", "FUND_PAID"),
        ("310", "GEN_OUTP_PAID"),
        ("310", "SPEC_OUTP_MONTH"),
    ]
    bad = gw.his.send("5206", {"data": {"psn_no": employee, "cum_ym": "202313"}})
    assert bad.err_msg == "input.data.cum_ym: 年月格式应为 yyyyMM：'202313'"


def test_psn_no_is_issued_once_and_never_the_id_number(gw: Gateway) -> None:
    idn, psn_no = create_insured(gw.engine)
    assert len(psn_no) == 16 and psn_no != idn and not psn_no[:17].isdigit()
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        person = people.find_by_psn_no(s, psn_no.lower())
        assert person is not None and person.id_number == idn
        records.change_status(s, id_number=idn, scheme=Scheme.RESIDENT, to=Status.SUSPENDED, reason="x", actor="t")
    with unit_of_work(gw.engine, principal=system_principal()) as s:
        assert people.get_person(s, idn).psn_no == psn_no
        assert people.find_with_records(s, psn_no=psn_no) is not None
    assert date.today().year >= 2024


def test_a_server_playing_another_period_accepts_clients_signing_with_real_time(gw: Gateway) -> None:
    """A demo or training server (YIBAO_CLOCK) lives in another period; hospitals' clocks do not."""
    idn, psn_no = create_insured(gw.engine)
    with clock.use(clock.ShiftedClock(datetime(2022, 11, 15, 2, 0, tzinfo=UTC))):
        answer = _1101(gw, "02", idn)
    assert answer.ok, answer.err_msg
    assert answer.output["baseinfo"]["psn_no"] == psn_no
