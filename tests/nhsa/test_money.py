"""The exact readers: money, quantities, dates and times as HIS send them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.core.dates import CHINA_TZ
from yibao.nhsa.envelope import parse_json
from yibao.nhsa.errors import FieldError, NhsaError, to_json
from yibao.nhsa.money import read_date, read_datetime, read_money, read_month, read_quantity, to_yuan

P = "input.feedetail[3].det_item_fee_sumamt"


@pytest.mark.parametrize(
    ("given_", "fen"),
    [
        ("12.30", 1230),
        ("12.3", 1230),
        ("12", 1200),
        (12, 1200),
        (Decimal("0.01"), 1),
        (Decimal("12.300"), 1230),  # trailing zeros carry no value
        ("99999999.99", 9_999_999_999),
        (" 5.00 ", 500),
        ("0", 0),
        (Decimal("1E+2"), 10000),
    ],
)
def test_money_read_exactly(given_: object, fen: int) -> None:
    assert read_money(given_, P) == fen


@pytest.mark.parametrize(
    ("given_", "message"),
    [
        ("12.345", "金额最多两位小数"),
        (Decimal("0.001"), "金额最多两位小数"),
        ("100000000", "超出范围"),
        (Decimal("100000000.00"), "超出范围"),
        ("-1.00", "不能为负数"),
        ("1,00", "格式不正确"),
        ("１２.00", "半角"),
        ("١٢", "半角"),
        ("1e2", "格式不正确"),
        ("NaN", "格式不正确"),
        (True, "应为数值"),
        (None, "应为数值"),
        ([1], "应为数值"),
        (1.5, "二进制浮点数"),
        ("9" * 41, "格式不正确"),
        (Decimal("1E+30"), "超出范围"),
        (Decimal("1E-30"), "金额最多两位小数"),
    ],
)
def test_money_refused_naming_the_field(given_: object, message: str) -> None:
    with pytest.raises(FieldError) as err:
        read_money(given_, P)
    assert err.value.err_msg.startswith(f"{P}: ")
    assert message in err.value.err_msg


def test_negative_only_where_allowed() -> None:
    assert read_money("-12.30", P, negative=True) == -1230
    assert read_money(Decimal("-0.00"), P) == 0


def test_json_numbers_never_pass_through_float() -> None:
    body = parse_json(b'{"a": 0.1, "b": 1234567.89, "c": 0.30000000000000004}')
    assert body["a"] == Decimal("0.1") and isinstance(body["a"], Decimal)
    assert read_money(body["b"], "b") == 123456789
    with pytest.raises(FieldError, match="最多两位小数"):
        read_money(body["c"], "c")


@pytest.mark.parametrize("bad", [b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe", b"[" * 40 + b"]" * 40])
def test_not_json(bad: bytes) -> None:
    with pytest.raises(NhsaError):
        parse_json(bad)


@given(st.integers(min_value=-9_999_999_999, max_value=9_999_999_999))
def test_money_round_trips_through_text_and_numbers(fen: int) -> None:
    text = to_json(to_yuan(fen))
    assert read_money(text, "x", negative=True) == fen
    assert read_money(parse_json(text.encode()), "x", negative=True) == fen


def test_quantity_four_decimals() -> None:
    assert read_quantity("1.2345", "cnt") == Decimal("1.2345")
    assert read_quantity(Decimal("-2"), "cnt", negative=True) == Decimal("-2")
    with pytest.raises(FieldError, match="数量最多4位小数"):
        read_quantity("1.23456", "cnt")


def test_dates() -> None:
    assert read_date("2023-02-28", "d") == date(2023, 2, 28)
    for bad, why in (
        ("2023-02-30", "日期不存在"),
        ("2023-2-3", "yyyy-MM-dd"),
        ("２０２３-01-01", "半角"),
        (20230101, "字符串"),
    ):
        with pytest.raises(FieldError, match=why):
            read_date(bad, "input.data.begndate")


def test_times_are_china_time() -> None:
    t = read_datetime("2023-05-01 08:30:00", "t")
    assert t == datetime(2023, 5, 1, 8, 30, tzinfo=CHINA_TZ)
    assert read_datetime("20230501083000", "t") == t
    assert read_datetime("2023-05-01", "t") == datetime(2023, 5, 1, tzinfo=CHINA_TZ)
    with pytest.raises(FieldError, match="时间不存在"):
        read_datetime("2023-02-30 10:00:00", "t")
    with pytest.raises(FieldError, match="时间格式"):
        read_datetime("2023-05-01", "inf_time", date_only=False)
    assert read_month("202305", "m") == date(2023, 5, 1) == read_month("2023-05", "m")
    with pytest.raises(FieldError):
        read_month("202313", "m")
