"""5206 a person's accumulations for the benefit year containing a month.

The accumulators (``cum_type_code``, yibao's own, as the design file lists them) add up settled claims
(:mod:`yibao.claims.accumulators`). The seeds define no employee pooled fund: an employee's are zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from yibao.core.auth import Scope, rule
from yibao.core.errors import AppError
from yibao.nhsa import codes
from yibao.nhsa.money import to_yuan
from yibao.nhsa.registry import Context, FieldError, Input, PersonRecords, transaction
from yibao.people.models import Scheme

ACCUMULATIONS = rule(
    "nhsa.accumulations.read",
    "人员累计信息查询 / a person's accumulations (5206)",
    writes=False,
    institution=Scope.ANY,
)

CUM_TYPES: dict[str, str] = {
    "FUND_PAID": "本年度统筹基金累计支付（计入最高支付限额）",
    "CATA_BASE": "本年度计入大病保险的政策范围内个人负担累计",
    "GEN_OUTP_PAID": "本年度普通门诊统筹基金累计支付",
    "SPEC_OUTP_MONTH": "当月门诊慢特病政策范围内费用累计",
}
# Catastrophic cover (大病保险) is the residents' (insutype 392 as a fund of 390).
_CUM_TYPES_OF = {"310": ("FUND_PAID", "GEN_OUTP_PAID", "SPEC_OUTP_MONTH"), "390": tuple(CUM_TYPES)}


def benefit_year(scheme: Scheme, month: date) -> int:
    """The benefit year containing ``month``: the contribution year of residents, the calendar year of employees."""
    from yibao.premiums.contributions import contribution_year_for

    if scheme is Scheme.EMPLOYEE:
        return month.year
    return contribution_year_for(month)


def accumulated(ctx: Context, found: PersonRecords, scheme: Scheme, month: date) -> dict[str, int]:
    """Each accumulator of the person in the benefit year of ``month``, in fen."""
    wanted = _CUM_TYPES_OF[codes.INSUTYPE_OF[scheme]]
    if scheme is not Scheme.RESIDENT:
        return dict.fromkeys(wanted, 0)
    from yibao.claims.accumulators import cumulative

    found_sums = cumulative(ctx.session, found.person.id, month)
    return {code: found_sums[code] for code in wanted}


@transaction("5206", action=ACCUMULATIONS, writes=False)
def accumulations(ctx: Context, inp: Input) -> dict[str, Any]:
    """人员累计信息查询: data {psn_no*, cum_ym*} → cuminfo[] {insutype, year, cum_ym, cum_type_code, cum_type_name, cum}."""
    data = inp.node("data")
    psn_no = data.text("psn_no", max_len=30)
    month = data.month("cum_ym")
    found = ctx.person(psn_no, path=data.at("psn_no"))
    rows = []
    for record in found.records:
        scheme = Scheme(record.scheme)
        try:
            year = benefit_year(scheme, month)
        except (AppError, ValueError, KeyError):
            raise FieldError(data.at("cum_ym"), f"{month:%Y%m} 早于本系统政策参数的起始日期") from None
        for code, cum in accumulated(ctx, found, scheme, month).items():
            rows.append(
                {
                    "insutype": codes.INSUTYPE_OF[scheme],
                    "year": str(year),
                    "cum_ym": f"{month:%Y%m}",
                    "cum_type_code": code,
                    "cum_type_name": CUM_TYPES[code],
                    "cum": to_yuan(cum),
                }
            )
    return {"cuminfo": rows}
