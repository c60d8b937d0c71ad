"""Per-line valuation (national-interface.md, "Fee lines and the catalogue"): pure, no database."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.claims.valuation import (
    CLASS_A,
    CLASS_B,
    SELF_PAID,
    format_cnt,
    line_amount,
    parse_cnt,
    prop_text,
    totals,
    value_line,
)
from yibao.core.errors import ValidationFailed

TEN = Fraction(1, 10)


def value(pric: int, cnt: int, level: str | None, ceiling: int | None = None, share: Fraction | None = TEN):  # type: ignore[no-untyped-def]
    return value_line(
        amount=line_amount(pric, cnt), pric=pric, cnt=cnt, code="X01", level=level, ceiling=ceiling, class_b_share=share
    )


def test_quantities_are_read_exactly() -> None:
    assert parse_cnt("1.5") == 15_000
    assert parse_cnt(2) == 20_000
    assert parse_cnt("-0.0001") == -1
    assert format_cnt(15_000) == "1.5" and format_cnt(-20_000) == "-2" and format_cnt(1) == "0.0001"
    for bad in ("1.23456", "1e3", "", "abc", 1.5, True):
        with pytest.raises(ValidationFailed):
            parse_cnt(bad)


def test_amount_must_be_price_times_quantity_half_up() -> None:
    # 3.33 × 1.5 = 4.995 → 5.00 (half up)
    assert line_amount(333, 15_000) == 500
    v = value_line(amount=500, pric=333, cnt=15_000, code="A", level=CLASS_A, ceiling=None, class_b_share=None)
    assert v.amount == 500
    with pytest.raises(ValidationFailed) as err:
        value_line(amount=499, pric=333, cnt=15_000, code="A", level=CLASS_A, ceiling=None, class_b_share=None)
    assert (
        err.value.field == "det_item_fee_sumamt" and "4.99" in err.value.message_zh and "5.00" in err.value.message_zh
    )


def test_class_c_is_wholly_self_paid_and_nothing_else() -> None:
    v = value(1234, 30_000, SELF_PAID, ceiling=100)
    assert (v.fulamt_ownpay, v.overlmt, v.preselfpay, v.inscp) == (3702, 0, 0, 0)
    assert v.selfpay_prop == 1 and v.memo is None


def test_unknown_code_is_class_c_with_a_memo() -> None:
    v = value(1000, 10_000, None)
    assert (v.level, v.fulamt_ownpay, v.inscp) == (SELF_PAID, 1000, 0)
    assert v.memo is not None and "X01" in v.memo and "丙类" in v.memo


def test_price_above_the_ceiling_is_over_limit() -> None:
    # 12.00 a box, ceiling 10.00, 3 boxes: 6.00 over the limit, the rest in scope (class A)
    v = value(1200, 30_000, CLASS_A, ceiling=1000)
    assert (v.amount, v.overlmt, v.preselfpay, v.inscp) == (3600, 600, 0, 3000)
    assert v.memo is not None and "10.00" in v.memo
    assert value(900, 30_000, CLASS_A, ceiling=1000).overlmt == 0


def test_class_b_prepays_on_stays_only() -> None:
    stay = value(1200, 30_000, CLASS_B, ceiling=1000, share=TEN)
    # (36.00 - 6.00) × 10% = 3.00
    assert (stay.overlmt, stay.preselfpay, stay.inscp, stay.class_b) == (600, 300, 2700, 3000)
    outpatient = value(1200, 30_000, CLASS_B, ceiling=1000, share=None)
    assert (outpatient.preselfpay, outpatient.inscp, outpatient.class_b, outpatient.selfpay_prop) == (0, 3000, 0, 0)


def test_refund_line_parts_are_negative() -> None:
    billed = value(1200, 30_000, CLASS_B, ceiling=1000)
    refund = value(1200, -10_000, CLASS_B, ceiling=1000)
    assert (refund.amount, refund.overlmt, refund.preselfpay, refund.inscp) == (-1200, -200, -100, -900)
    both = totals([billed, refund])
    assert (both.medfee, both.overlmt, both.in_scope, both.class_b) == (2400, 400, 2000, 2000)
    c = value(500, -20_000, None)
    assert (c.fulamt_ownpay, c.inscp) == (-1000, 0)


def test_shares_print_as_the_interface_writes_them() -> None:
    assert (prop_text(Fraction(0)), prop_text(TEN), prop_text(Fraction(1))) == ("0", "0.1", "1")


@given(
    pric=st.integers(min_value=0, max_value=10_000_000),
    cnt=st.integers(min_value=-1_000_000, max_value=1_000_000).filter(bool),
    level=st.sampled_from([CLASS_A, CLASS_B, SELF_PAID, None]),
    ceiling=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000_000)),
    share=st.one_of(st.none(), st.fractions(min_value=0, max_value=1, max_denominator=1000)),
)
def test_parts_always_add_up_to_the_line(
    pric: int, cnt: int, level: str | None, ceiling: int | None, share: Fraction | None
) -> None:
    v = value(pric, cnt, level, ceiling, share)
    assert v.fulamt_ownpay + v.overlmt + v.preselfpay + v.inscp == v.amount
    # every part has the line's sign (a refund's parts are all negative or zero)
    for part in (v.fulamt_ownpay, v.overlmt, v.preselfpay, v.inscp):
        assert part * v.amount >= 0 or part == 0
    # a refund of a line is the exact negation of billing the same quantity
    mirror = value(pric, -cnt, level, ceiling, share)
    assert (mirror.amount, mirror.overlmt, mirror.preselfpay, mirror.inscp) == (
        -v.amount,
        -v.overlmt,
        -v.preselfpay,
        -v.inscp,
    )
