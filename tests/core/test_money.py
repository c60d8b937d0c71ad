from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.core.errors import ValidationFailed
from yibao.core.money import div_half_up, format_yuan, mul_ratio, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("0.5", 50), ("0.05", 5), ("1234.56", 123456), ("12", 1200), (" 7.10 ", 710), (3, 300)],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", [1.5, "1.234", "1,000", "abc", "", "1e3", True, None, "-1.00"])
def test_parse_yuan_refuses(bad: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_yuan(bad, field="total")
    assert err.value.field == "total"


def test_negative_only_when_allowed() -> None:
    assert parse_yuan("-3.20", allow_negative=True) == -320


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (5, "0.05"), (123456, "1234.56"), (-5, "-0.05"), (-100, "-1.00")]
)
def test_format_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


def test_format_refuses_float() -> None:
    with pytest.raises(TypeError):
        format_yuan(1.0)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen


@pytest.mark.parametrize(
    ("num", "den", "out"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1), (-15, 10, -2), (7, 1, 7), (1, 3, 0), (2, 3, 1)],
)
def test_div_half_up(num: int, den: int, out: int) -> None:
    assert div_half_up(num, den) == out


@given(st.integers(min_value=0, max_value=10**12), st.fractions(min_value=0, max_value=2, max_denominator=1000))
def test_mul_ratio_is_exact_half_up(fen: int, ratio: Fraction) -> None:
    exact = fen * ratio
    got = mul_ratio(fen, ratio)
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    if Fraction(got) - exact == Fraction(-1, 2):
        pytest.fail("half must round up")


@pytest.mark.parametrize("bad", ["１.００", "١٠٠", "1０0.00", "100.0０", "۵", "１２"])
def test_parse_yuan_refuses_non_ascii_digits(bad: str) -> None:
    with pytest.raises(ValidationFailed, match="0-9") as err:
        parse_yuan(bad, field="amount")
    assert err.value.field == "amount"
