"""``setlinfo`` and ``setldetail`` as the national interface answers them, their invariants, and negation.

Money is held in fen while computing and written as yuan strings with two decimals here, at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yibao.core.money import format_yuan, parse_yuan

FUNDS = ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "hifdm_pay", "maf_pay", "oth_pay")
MONEY = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "hifdm_pay",
    "maf_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)
DETAIL_MONEY = ("inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt")
FUND_TYPES = {
    "hifp_pay": ("390100", "城乡居民基本医疗保险统筹基金"),
    "hifmi_pay": ("390200", "城乡居民大病保险"),
}


@dataclass(frozen=True, slots=True)
class Amounts:
    """A settlement's amounts in fen (the funds the seeds define: pooled fund and catastrophic cover)."""

    medfee: int
    fulamt_ownpay: int
    overlmt_selfpay: int
    preselfpay: int
    act_pay_dedc: int
    hifp: int
    hifmi: int
    acct_pay: int  # acct_mulaid_pay included
    acct_mulaid_pay: int
    balc: int

    @property
    def inscp(self) -> int:
        """In-scope amount after the class-B prepayment."""
        return self.medfee - self.fulamt_ownpay - self.overlmt_selfpay - self.preselfpay

    @property
    def fund_sum(self) -> int:
        """What the funds pay together."""
        return self.hifp + self.hifmi

    @property
    def psn_part(self) -> int:
        """What the person bears (no hospital part: yibao has none)."""
        return self.medfee - self.fund_sum

    @property
    def cash(self) -> int:
        """What the person pays in cash."""
        return self.psn_part - self.acct_pay


def money_fields(a: Amounts) -> dict[str, str]:
    """The money fields of ``setlinfo`` (two-decimal yuan strings)."""
    pool_selfpay = max(0, a.inscp - a.act_pay_dedc - a.hifp)
    fen = {
        "medfee_sumamt": a.medfee,
        "fulamt_ownpay_amt": a.fulamt_ownpay,
        "overlmt_selfpay": a.overlmt_selfpay,
        "preselfpay_amt": a.preselfpay,
        "inscp_scp_amt": a.inscp,
        "act_pay_dedc": a.act_pay_dedc,
        "hifp_pay": a.hifp,
        "pool_prop_selfpay": pool_selfpay,
        "cvlserv_pay": 0,
        "hifes_pay": 0,
        "hifmi_pay": a.hifmi,
        "hifob_pay": 0,
        "hifdm_pay": 0,
        "maf_pay": 0,
        "oth_pay": 0,
        "fund_pay_sumamt": a.fund_sum,
        "psn_part_amt": a.psn_part,
        "acct_pay": a.acct_pay,
        "psn_cash_pay": a.cash,
        "hosp_part_amt": 0,
        "balc": a.balc,
        "acct_mulaid_pay": a.acct_mulaid_pay,
    }
    return {k: format_yuan(v) for k, v in fen.items()}


def setldetail(a: Amounts, *, ceiling_left: int | None, info: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per fund that pays (Σ fund_payamt = fund_pay_sumamt; no personal-account row)."""
    rows = []
    for name, amount in (("hifp_pay", a.hifp), ("hifmi_pay", a.hifmi)):
        if amount == 0:
            continue
        code, title = FUND_TYPES[name]
        limit = ceiling_left if name == "hifp_pay" else None
        rows.append(
            {
                "fund_pay_type": code,
                "inscp_scp_amt": format_yuan(a.inscp),
                "crt_payb_lmt_amt": None if limit is None else format_yuan(limit),
                "fund_payamt": format_yuan(amount),
                "fund_pay_type_name": title,
                "setl_proc_info": info.get(name, ""),
            }
        )
    return rows


def _fen(value: Any) -> int:
    return parse_yuan(value, field="amount", allow_negative=True) if value is not None else 0


def invariants(setlinfo: Mapping[str, Any], detail: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every invariant of national-interface.md "setlinfo" that this answer breaks (none, always)."""
    f = {k: _fen(setlinfo.get(k)) for k in MONEY}
    problems = []
    parts = f["fulamt_ownpay_amt"] + f["overlmt_selfpay"] + f["preselfpay_amt"] + f["inscp_scp_amt"]
    if f["medfee_sumamt"] != parts:
        problems.append("medfee_sumamt != fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt")
    funds = sum(f[k] for k in FUNDS)
    if f["fund_pay_sumamt"] != funds:
        problems.append("fund_pay_sumamt != sum of the funds")
    if f["fund_pay_sumamt"] != sum(_fen(d.get("fund_payamt")) for d in detail):
        problems.append("fund_pay_sumamt != sum of setldetail.fund_payamt")
    if f["psn_part_amt"] != f["medfee_sumamt"] - f["fund_pay_sumamt"] - f["hosp_part_amt"]:
        problems.append("psn_part_amt != medfee_sumamt - fund_pay_sumamt - hosp_part_amt")
    if f["psn_part_amt"] != f["acct_pay"] + f["psn_cash_pay"]:
        problems.append("psn_part_amt != acct_pay + psn_cash_pay")
    if abs(f["acct_mulaid_pay"]) > abs(f["acct_pay"]) or f["acct_mulaid_pay"] * f["acct_pay"] < 0:
        problems.append("acct_mulaid_pay exceeds acct_pay")
    return problems


def negated(
    setlinfo: Mapping[str, Any], detail: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A reversal's answer: the same amounts negated (``balc`` excepted), cash also as ``pdn_cash_pay``."""
    info = dict(setlinfo)
    for k in MONEY:
        if info.get(k) is not None:
            info[k] = format_yuan(-_fen(info[k]))
    info["pdn_cash_pay"] = info["psn_cash_pay"]
    rows = []
    for d in detail:
        row = dict(d)
        for k in DETAIL_MONEY:
            if row.get(k) is not None:
                row[k] = format_yuan(-_fen(row[k]))
        rows.append(row)
    return info, rows
