"""Envelopes: required fields, the "null" rule, the habits of real clients, refusals naming node and field."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.nhsa.conftest import URL, Gateway, writes
from tests.nhsa.helpers import create_institution, his
from yibao.core.auth import Scope, rule
from yibao.nhsa.money import to_yuan
from yibao.nhsa.registry import Context, Input, transaction

SIGN_IN = {"signIn": {"opter_no": "001"}}

# A transaction of the tests' own, reading amounts, quantities and times the way settlement will.
ECHO = rule("nhsa.test.echo", "测试：回显金额 / test: echo amounts", writes=False, institution=Scope.ANY)


@transaction("0901", action=ECHO, writes=False)
def echo(ctx: Context, inp: Input) -> dict[str, Any]:
    data = inp.node("data")
    lines = inp.list("feedetail", required=False)
    dscg = data.datetime("dscgTime", required=False)
    return {
        "medfee_sumamt": to_yuan(data.money("medfee_sumamt")),
        "fen": data.money("medfee_sumamt"),
        "refund": to_yuan(data.money("refund", required=False, negative=True) or 0),
        "cnt": str(data.quantity("cnt", required=False)),
        "dscgTime": dscg.isoformat() if dscg else None,
        "lines": [line.money("det_item_fee_sumamt") for line in lines],
    }


def _ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["infcode"] == 0 and body["err_msg"] is None, body
    return body


def _refused(r: Any, err_msg: str, status: int = 200) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["infcode"] == -1 and body["output"] is None
    assert body["err_msg"] == err_msg or body["err_msg"].startswith(err_msg), body["err_msg"]


def test_answer_envelope_fields(gw: Gateway) -> None:
    body = _ok(gw.raw(gw.envelope("9001", SIGN_IN)))
    assert set(body) == {
        "infcode",
        "inf_refmsgid",
        "refmsg_time",
        "respond_time",
        "err_msg",
        "warn_msg",
        "cainfo",
        "signtype",
        "enctype",
        "output",
    }
    assert re.fullmatch(r"530100[0-9]{14}[0-9]{10}", body["inf_refmsgid"])
    assert re.fullmatch(r"[0-9]{17}", body["respond_time"]) and re.fullmatch(r"[0-9]{17}", body["refmsg_time"])
    assert body["refmsg_time"] <= body["respond_time"]
    assert body["enctype"] is None and body["warn_msg"] is None
    out = body["output"]["signinoutb"]
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", out["sign_time"])


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=utf-8", "application/json", None])
def test_any_content_type(gw: Gateway, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    _ok(gw.raw(gw.envelope("9001", SIGN_IN), headers=headers))


def test_byte_order_mark(gw: Gateway) -> None:
    _ok(gw.raw(b"\xef\xbb\xbf" + json.dumps(gw.envelope("9001", SIGN_IN)).encode()))


@pytest.mark.parametrize("null", ["null", "NULL", "Null", "", None])
def test_null_strings_in_optional_fields(gw: Gateway, null: str | None) -> None:
    fields = dict.fromkeys(
        (
            "sign_no",
            "mdtrtarea_admvs",
            "insuplc_admdvs",
            "recer_sys_code",
            "dev_no",
            "dev_safe_info",
            "cainfo",
            "signtype",
            "infver",
            "opter_type",
            "opter",
            "opter_name",
            "fixmedins_name",
        ),
        null,
    )
    _ok(gw.raw(gw.envelope("9001", {"signIn": {"opter_no": "001", "mac": null, "ip": null}}, **fields)))


def test_infno_in_the_path(gw: Gateway) -> None:
    _ok(gw.raw(gw.envelope("9001", SIGN_IN), path=f"{URL}/9001"))
    before = writes(gw.engine)
    _refused(
        gw.raw(gw.envelope("9001", SIGN_IN), path=f"{URL}/1101"),
        "infno: 报文中的交易编号 9001 与请求地址中的 1101 不一致",
    )
    assert writes(gw.engine) == before


def test_msgid_of_30_hex_characters(gw: Gateway) -> None:
    import secrets

    _ok(gw.raw(gw.envelope("9001", SIGN_IN, msgid=secrets.token_hex(15))))


@pytest.mark.parametrize("field", ["infno", "msgid", "fixmedins_code", "inf_time", "input"])
@pytest.mark.parametrize("how", ["missing", "null", "empty"])
def test_required_envelope_fields(gw: Gateway, field: str, how: str) -> None:
    body = gw.envelope("9001", SIGN_IN)
    if how == "missing":
        del body[field]
    else:
        body[field] = None if how == "null" else ""
    before = writes(gw.engine)
    status = 200
    if field == "fixmedins_code":
        # An envelope naming no institution is answered like one naming another: not the paasid's.
        _refused(gw.raw(body), "fixmedins_code: 必填项缺失", status)
    else:
        _refused(gw.raw(body), f"{field}: 必填项缺失", status)
    assert writes(gw.engine) == before


@pytest.mark.parametrize(
    ("field", "value", "err_msg"),
    [
        ("msgid", "H" * 31, "msgid: 长度不能超过30个字符"),
        ("msgid", 12345, None),  # a number: read as its digits
        ("infno", "90011", "infno: 长度不能超过4个字符"),
        ("infno", "9O01", "infno: 格式不正确"),
        ("infno", "９００１", "infno: 只能使用半角数字"),
        ("inf_time", "2023-02-30 10:00:00", "inf_time: 时间不存在：2023-02-30 10:00:00"),
        ("inf_time", "2023/01/01 10:00:00", "inf_time: 时间格式应为 yyyy-MM-dd HH:mm:ss"),
        ("inf_time", "2023-01-01", "inf_time: 时间格式应为 yyyy-MM-dd HH:mm:ss"),
        ("input", [], "input: 应为对象（JSON object）"),
        ("insuplc_admdvs", "5301", "insuplc_admdvs: 格式不正确"),
        ("insuplc_admdvs", "53010０", "insuplc_admdvs: 只能使用半角数字"),
        ("opter_name", "张\u202e三", "opter_name: 含有不可见或控制字符 U+202E"),
        ("opter", {"a": 1}, "opter: 应为字符串"),
    ],
)
def test_malformed_envelope_fields(gw: Gateway, field: str, value: Any, err_msg: str | None) -> None:
    r = gw.raw(gw.envelope("9001", SIGN_IN, **{field: value}))
    if err_msg is None:
        _ok(r)
    else:
        _refused(r, err_msg)


def test_insuplc_admdvs_length(gw: Gateway) -> None:
    _refused(gw.raw(gw.envelope("9001", SIGN_IN, insuplc_admdvs="5301000")), "insuplc_admdvs: 长度不能超过6个字符")


@pytest.mark.parametrize(
    ("body", "err_msg"),
    [
        (b"{", "报文不是有效的JSON"),
        (b"", "报文不是有效的JSON"),
        (b'{"infno": NaN}', "报文不是有效的JSON"),
        (b"\xff\xfe{}", "报文不是有效的UTF-8编码"),
        (b"[1, 2]", "报文应为JSON对象"),
        (b"[" * 100 + b"]" * 100, "报文嵌套层次过深（上限 32 层）"),
        (b'{"infno": "9001", "msgid": "\\ud800"}', "msgid: 含有NUL字符或无效的Unicode代理字符"),
        (b'{"infno": "9001", "input": {"a": "x\\u0000"}}', "input.a: 含有NUL字符或无效的Unicode代理字符"),
    ],
)
def test_bodies_that_are_no_envelope(gw: Gateway, body: bytes, err_msg: str) -> None:
    before = writes(gw.engine)
    _refused(gw.raw(body), err_msg)
    assert writes(gw.engine) == before


def test_unknown_infno(gw: Gateway) -> None:
    _refused(gw.raw(gw.envelope("9999", {})), "不支持的交易 infno=9999")


def test_unknown_fields_are_ignored(gw: Gateway) -> None:
    body = gw.envelope("9001", {"signIn": {"opter_no": "001", "whatever": [1, {"x": None}]}, "extra": 1}, foo="bar")
    _ok(gw.raw(body))


def test_size_limit(gw: Gateway) -> None:
    from yibao.nhsa.envelope import MAX_MESSAGE_BYTES

    body = gw.envelope("9001", {"signIn": {"opter_no": "001"}, "padding": "x" * MAX_MESSAGE_BYTES})
    _refused(gw.raw(body), "报文过大（上限 4096 KB）")


def test_wrong_method_and_path(gw: Gateway) -> None:
    assert gw.http.get(URL).json()["infcode"] == -1
    r = gw.http.post("/fsi/api/other", content=b"{}")
    assert r.status_code == 404 and "接口地址不存在" in r.json()["err_msg"]


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("12.30", 1230),
        (12.3, 1230),
        (12, 1200),
        ("0.1", 10),
        (0.1, 10),
        (1234567.89, 123456789),
        ("99999999.99", 9999999999),
    ],
)
def test_amounts_as_strings_or_numbers(gw: Gateway, amount: Any, fen: int) -> None:
    out = _ok(gw.raw(gw.envelope("0901", {"data": {"medfee_sumamt": amount}})))["output"]
    assert out["fen"] == fen
    # Answers carry amounts as exact JSON numbers with two decimals.
    r = gw.raw(gw.envelope("0901", {"data": {"medfee_sumamt": amount}}))
    assert f'"medfee_sumamt":{Decimal(fen).scaleb(-2)}' in r.text


def test_json_numbers_are_read_from_their_digits(gw: Gateway) -> None:
    # 0.30000000000000004 is no amount of fen; a float-based reader would round it to 0.30.
    raw = json.dumps(gw.envelope("0901", {"data": {"medfee_sumamt": "X"}})).replace('"X"', "0.30000000000000004")
    _refused(gw.raw(raw), "input.data.medfee_sumamt: 金额最多两位小数")


@pytest.mark.parametrize(
    ("payload", "err_msg"),
    [
        ({"data": {}}, "input.data.medfee_sumamt: 必填项缺失"),
        ({"data": {"medfee_sumamt": "null"}}, "input.data.medfee_sumamt: 必填项缺失"),
        ({"data": {"medfee_sumamt": "1.234"}}, "input.data.medfee_sumamt: 金额最多两位小数"),
        ({"data": {"medfee_sumamt": "-1"}}, "input.data.medfee_sumamt: 金额不能为负数"),
        ({"data": {"medfee_sumamt": 100000000}}, "input.data.medfee_sumamt: 金额超出范围"),
        ({"data": {"medfee_sumamt": "１"}}, "input.data.medfee_sumamt: 只能使用半角数字"),
        ({"data": {"medfee_sumamt": True}}, "input.data.medfee_sumamt: 金额应为数值或数值字符串"),
        ({"data": "x"}, "input.data: 应为对象（JSON object）"),
        ({}, "input.data: 必填项缺失"),
        ({"data": {"medfee_sumamt": 1, "cnt": "1.23456"}}, "input.data.cnt: 数量最多4位小数"),
        ({"data": {"medfee_sumamt": 1, "dscgTime": "2023-02-30 08:00:00"}}, "input.data.dscgTime: 时间不存在"),
        (
            {
                "data": {"medfee_sumamt": 1},
                "feedetail": [{"det_item_fee_sumamt": 1}] * 3 + [{"det_item_fee_sumamt": "1.001"}],
            },
            "input.feedetail[3].det_item_fee_sumamt: 金额最多两位小数",
        ),
        ({"data": {"medfee_sumamt": 1}, "feedetail": [1]}, "input.feedetail[0]: 应为对象（JSON object）"),
    ],
)
def test_payload_refusals_name_node_and_field(gw: Gateway, payload: dict[str, Any], err_msg: str) -> None:
    _refused(gw.raw(gw.envelope("0901", payload)), err_msg)


def test_dscgtime_negative_where_allowed_and_lone_objects_as_lists(gw: Gateway) -> None:
    payload = {
        "data": {"medfee_sumamt": "1.00", "refund": "-3.50", "cnt": "2.5", "dscgTime": "2023-05-01 08:00:00"},
        "feedetail": {"det_item_fee_sumamt": "4.00"},
    }
    out = _ok(gw.raw(gw.envelope("0901", payload)))["output"]
    assert out["refund"] == -3.5 and out["cnt"] == "2.5000" and out["lines"] == [400]
    assert out["dscgTime"] == "2023-05-01T08:00:00+08:00"


def test_infcode_as_a_string(gw: Gateway) -> None:
    creds = create_institution(gw.engine, infcode_string=True)
    c = his(gw.http, creds)
    assert c.send("9001", SIGN_IN).envelope["infcode"] == "0"
    assert c.send("9999", {}).envelope["infcode"] == "-1"
