"""Valuing one fee line against the catalogue (national-interface.md, "Fee lines and the catalogue").

Pure: amounts in fen, quantities in ten-thousandths (``cnt`` has at most four decimals), the class-B
prepay share passed in by the caller from the policy pack. Each part is rounded half up to the fen where
it is produced. A refund line (negative quantity) is valued by the same rules on its own quantity, so
each of its parts is negative.

The per-line splits are informative: a settlement's totals come from the benefit engine on the summed
lines (:func:`totals`), so that a settlement and ``yibao calc`` agree to the fen on the same stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from yibao.core.errors import ValidationFailed
from yibao.core.money import div_half_up, format_yuan, mul_ratio

CLASS_A, CLASS_B, SELF_PAID = "01", "02", "03"
LEVELS = {CLASS_A: "甲类", CLASS_B: "乙类", SELF_PAID: "丙类"}
CNT_SCALE = 10_000  # quantities are held in ten-thousandths
_CNT_RE = re.compile(r"^(-?)([0-9]{1,12})(?:\.([0-9]{1,4}))?$")


def parse_cnt(value: object, *, field: str = "cnt") -> int:
    """A quantity with at most four decimals, in ten-thousandths (read exactly, never through a float)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationFailed(field, "数量必须是数字", "cnt must be a number")
    text_ = str(value).strip()
    m = _CNT_RE.match(text_)
    if not m:
        raise ValidationFailed(field, f"数量格式不正确：{text_!r}（最多四位小数）", f"malformed cnt {text_!r}")
    sign, whole, frac = m.groups()
    n = int(whole) * CNT_SCALE + int((frac or "0").ljust(4, "0"))
    return -n if sign else n


def format_cnt(cnt: int) -> str:
    """A quantity as the interface writes it: ``1.5``, ``-2``, ``0.0001``."""
    d = Decimal(cnt) / CNT_SCALE
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


def line_amount(pric: int, cnt: int) -> int:
    """``pric × cnt`` rounded half up to the fen."""
    return div_half_up(pric * cnt, CNT_SCALE)


@dataclass(frozen=True, slots=True)
class LineValue:
    """The parts of one line (all fen, negative on a refund line)."""

    amount: int
    level: str  # 01 / 02 / 03 (an unknown code counts as 03)
    fulamt_ownpay: int
    overlmt: int
    preselfpay: int
    inscp: int
    selfpay_prop: Fraction
    memo: str | None

    @property
    def in_scope(self) -> int:
        """What the engine counts as in scope: the line less its self-paid and over-limit parts."""
        return self.amount - self.fulamt_ownpay - self.overlmt

    @property
    def class_b(self) -> int:
        """The class-B amount the engine's prepayment applies to (inpatient stays only, else 0)."""
        return self.in_scope if self.level == CLASS_B and self.preselfpay_applies else 0

    preselfpay_applies: bool = False


def value_line(
    *,
    amount: int,
    pric: int,
    cnt: int,
    code: str,
    level: str | None,
    ceiling: int | None,
    class_b_share: Fraction | None,
) -> LineValue:
    """Split one line into self-paid, over-limit, class-B prepay and in-scope parts.

    ``level`` None: the code is not in the catalogue on the day, valued as 丙类 with a memo.
    ``class_b_share`` None: no class-B prepayment on this visit (outpatient visits, 11 and 14).
    """
    expected = line_amount(pric, cnt)
    if amount != expected:
        raise ValidationFailed(
            "det_item_fee_sumamt",
            f"明细金额 {format_yuan(amount)} 不等于单价 {format_yuan(pric)} × 数量 {format_cnt(cnt)} = "
            f"{format_yuan(expected)}（四舍五入到分）",
            f"amount {format_yuan(amount)} is not pric × cnt = {format_yuan(expected)}",
        )
    if level is None or level == SELF_PAID:
        memo = None if level else f"医保目录中无此项目（{code}），按丙类全额自费"
        return LineValue(amount, SELF_PAID, amount, 0, 0, 0, Fraction(1), memo)
    if level not in (CLASS_A, CLASS_B):
        raise ValueError(f"unknown chrgitm_lv {level!r}")
    overlmt = line_amount(pric - ceiling, cnt) if ceiling is not None and pric > ceiling else 0
    applies = level == CLASS_B and class_b_share is not None
    share = class_b_share if applies and class_b_share is not None else Fraction(0)
    preselfpay = mul_ratio(amount - overlmt, share) if applies else 0
    inscp = amount - overlmt - preselfpay
    memo = f"单价超过限价 {format_yuan(ceiling)} 元的部分自付" if overlmt and ceiling is not None else None
    return LineValue(amount, level, 0, overlmt, preselfpay, inscp, share, memo, applies)


@dataclass(frozen=True, slots=True)
class Totals:
    """A visit's sums over its lines, as the engine and ``setlinfo`` need them."""

    medfee: int
    fulamt_ownpay: int
    overlmt: int
    in_scope: int
    class_b: int
    lines: int


def totals(values: Iterable[LineValue]) -> Totals:
    """Sum the lines: ``in_scope`` = Σ(line − fulamt − overlmt), ``class_b`` = Σ class-B in scope where it applies."""
    medfee = fulamt = overlmt = in_scope = class_b = n = 0
    for v in values:
        medfee += v.amount
        fulamt += v.fulamt_ownpay
        overlmt += v.overlmt
        in_scope += v.in_scope
        class_b += v.class_b
        n += 1
    return Totals(medfee, fulamt, overlmt, in_scope, class_b, n)


def prop_text(p: Fraction) -> str:
    """A share as the interface writes it: ``0``, ``0.1``, ``1``."""
    d = Decimal(p.numerator) / Decimal(p.denominator)
    return format(d.normalize(), "f") if d else "0"
