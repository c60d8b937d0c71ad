"""How a claim's payment grows with its bill: the same claim at many totals, settled by the batch engine at once.

The calculator shows, next to one decision, the fund, catastrophic and personal parts of the same stay or
visit as its bill grows from 0 to a top amount (400,000 yuan by default). Each point is one claim of its own
person (so no point adds to another's accumulators), with the entered claim's proportions of in-scope and
class B cost, settled in one call of :func:`yibao.engine.batch.settle_batch`: the scalar engine is not called
once per point.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from yibao.core.money import mul_ratio
from yibao.engine.batch import COLUMNS, KIND_GENERAL, KIND_INPATIENT, KIND_SPECIAL, settle_batch
from yibao.engine.claims import (
    Claim,
    Offsite,
    ResidentGeneralOutpatient,
    ResidentInpatient,
    ResidentSpecialOutpatient,
)
from yibao.policy.model import Pack

# What the chart spans (a presentation choice, not policy): 0 to 400,000 yuan in 80 equal steps.
TOP = 40_000_000  # fen
STEPS = 80

CurveClaim = ResidentInpatient | ResidentGeneralOutpatient | ResidentSpecialOutpatient
_OFFSITE = {Offsite.NONE: 0, Offsite.REFERRAL: 1, Offsite.EMERGENCY: 2}


@dataclass(frozen=True, slots=True)
class Curve:
    """Fund, catastrophic and personal pay (fen) at each bill total (fen)."""

    totals: list[int]
    fund: list[int]
    catastrophic: list[int]
    personal: list[int]
    ytd_ignored: bool  # the entered claim carried year-to-date amounts, which the points (first claims) leave out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form, amounts in fen."""
        return {
            "totals": self.totals,
            "fund": self.fund,
            "catastrophic": self.catastrophic,
            "personal": self.personal,
            "ytd_ignored": self.ytd_ignored,
        }


def supports(claim: Claim) -> bool:
    """Whether the batch engine settles this kind of claim (resident inpatient, general and special outpatient)."""
    return isinstance(claim, CurveClaim)


def _share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(1)


def _disease_index(claim: ResidentSpecialOutpatient, pack: Pack) -> int:
    diseases = pack.at(claim.date).items("resident.special_outpatient.diseases")
    for i, item in enumerate(diseases):
        if claim.disease in (item.code, item.name):
            return i
    raise ValueError(f"unknown disease {claim.disease!r}")  # the scalar engine refuses it first


def pay_curve(claim: CurveClaim, pack: Pack, *, top: int = TOP, steps: int = STEPS) -> Curve:
    """The claim at ``steps + 1`` totals from 0 to ``top``, each settled as its person's first claim of the year.

    Only for a claim the scalar engine pays (refusal flags are taken as passed): the caller decides the
    entered claim first and draws no curve for a refused one.
    """
    totals = [top * i // steps for i in range(steps + 1)]
    scope_share = _share(claim.in_scope, claim.total)
    class_b = claim.class_b if isinstance(claim, ResidentInpatient) else 0
    b_share = _share(class_b, claim.in_scope) if class_b else Fraction(0)
    in_scope = [mul_ratio(t, scope_share) for t in totals]
    n = len(totals)
    cols: dict[str, Any] = {name: np.zeros(n, dtype=dtype) for name, dtype in COLUMNS.items()}
    cols["person_id"] = np.arange(n, dtype=np.int64)
    cols["date"] = np.full(n, np.datetime64(claim.date, "D"))
    cols["birth_date"] = np.full(n, np.datetime64(claim.person.birth_date, "D"))
    cols["sex"][:] = 0 if claim.person.sex == "M" else 1
    cols["group"][:] = 0 if claim.person.group == "general" else 1
    for flag in ("designated", "registered", "filed", "on_time", "community_health_center", "card"):
        cols[flag][:] = True
    cols["total"] = np.array(totals, dtype=np.int64)
    cols["in_scope"] = np.array(in_scope, dtype=np.int64)
    cols["class_b"] = np.array([mul_ratio(s, b_share) for s in in_scope], dtype=np.int64)
    if isinstance(claim, ResidentInpatient):
        cols["kind"][:] = KIND_INPATIENT
        cols["hospital_level"][:] = claim.hospital_level or 1
        cols["offsite"][:] = _OFFSITE[claim.offsite]
        ytd = claim.ytd.fund_paid or claim.ytd.catastrophic_base
    elif isinstance(claim, ResidentGeneralOutpatient):
        cols["kind"][:] = KIND_GENERAL
        ytd = claim.ytd.fund_paid or claim.ytd.general_outpatient_paid
    else:
        cols["kind"][:] = KIND_SPECIAL
        cols["disease"][:] = _disease_index(claim, pack)
        ytd = claim.ytd.fund_paid or claim.ytd.month_used
    out = settle_batch(cols, pack)
    return Curve(
        totals=totals,
        fund=[int(x) for x in out["fund_pay"]],
        catastrophic=[int(x) for x in out["catastrophic_pay"]],
        personal=[int(x) for x in out["personal_pay"]],
        ytd_ignored=bool(ytd),
    )
