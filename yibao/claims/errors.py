"""The refusals of settlement: each with a stable code and a Chinese message saying what to do."""

from __future__ import annotations

from yibao.core.errors import AppError, Conflict, NotFound


class ClaimRefused(AppError):
    """A request the rules of settlement do not allow (not insured, off-site, no card, totals differ ...)."""

    code = "claims.refused"
    http_status = 422
    exit_code = 5


class WrongState(Conflict):
    """A move the visit's state does not allow (fee lines after settlement, discharge before admission ...)."""

    code = "claims.wrong_state"


class NoVisit(NotFound):
    """No visit with this mdtrt_id at this institution for this person."""

    code = "claims.no_visit"


class NoSettlement(NotFound):
    """No settlement with this setl_id at this institution for this person."""

    code = "claims.no_settlement"
