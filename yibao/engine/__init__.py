"""The benefit engine: pure calculators, a claim in, a decision with its explanation out.

No database and no I/O here: the caller passes the year-to-date accumulators in the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yibao.engine.claims import (
    Claim,
    NcmsInpatient,
    NcmsOutpatient,
    ResidentDisabilityAid,
    ResidentGeneralOutpatient,
    ResidentInpatient,
    ResidentMaternity,
    ResidentSpecialOutpatient,
    parse_claim,
)
from yibao.engine.explain import Decision, Refusal, Step, Trace
from yibao.engine.inpatient import settle_inpatient
from yibao.engine.ncms import settle_ncms_inpatient, settle_ncms_outpatient
from yibao.engine.outpatient import settle_general_outpatient, settle_special_outpatient
from yibao.engine.subsidies import settle_disability_aid, settle_maternity
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

__all__ = ["Claim", "Decision", "Refusal", "Step", "decide", "decide_json", "parse_claim"]

_CALCULATORS: dict[type[Any], Callable[[Any, Trace], Decision]] = {
    ResidentInpatient: settle_inpatient,
    ResidentGeneralOutpatient: settle_general_outpatient,
    ResidentSpecialOutpatient: settle_special_outpatient,
    ResidentMaternity: settle_maternity,
    ResidentDisabilityAid: settle_disability_aid,
    NcmsOutpatient: settle_ncms_outpatient,
    NcmsInpatient: settle_ncms_inpatient,
}


# A parameter every rule of the scheme depends on: if it is not in force on the date of service,
# the date lies outside every policy of the scheme and the claim is bad input, not a refusal.
_SCHEME_ANCHOR = {"resident": "resident.fund_ceiling", "ncms": "ncms.yearly_cap"}


def decide(claim: Claim, pack: Pack | None = None) -> Decision:
    """Decide one validated claim with the values in force on its date of service."""
    pack = pack or get_pack()
    trace = Trace(pack.at(claim.date))
    trace.view.get(_SCHEME_ANCHOR[claim.scheme])
    return _CALCULATORS[type(claim)](claim, trace)


def decide_json(data: Any, pack: Pack | None = None) -> dict[str, Any]:
    """The CLI and API contract: a JSON claim in, a JSON decision out (ValidationFailed on bad input)."""
    return decide(parse_claim(data), pack).to_dict()
