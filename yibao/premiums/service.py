"""Premium collection under the one name the accounts domain and its tests import (``yibao.premiums.service``).

The use cases live in contributions.py (contribution years, the paid-contribution check) and payments.py
(payments, receipts and records, answered as :class:`~yibao.premiums.schemas.Receipt`). Here a receipt is
given in its JSON form, which the accounts domain embeds in its own answers. This module goes once accounts
uses the typed receipts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibao.policy.model import Pack
from yibao.premiums import payments
from yibao.premiums.contributions import ContributionUnpaid, contribution_year, require_paid_contribution
from yibao.premiums.payments import ACCOUNT_CHANNEL, PaymentRequest, PremiumRefused

__all__ = [
    "ACCOUNT_CHANNEL",
    "ContributionUnpaid",
    "PaymentRequest",
    "PremiumRefused",
    "contribution_year",
    "pay_premium",
    "payments_by_payer",
    "payments_for_insured",
    "require_paid_contribution",
]


def pay_premium(
    session: Session, req: PaymentRequest, *, now: datetime, pack: Pack | None = None, from_account: bool = False
) -> dict[str, Any]:
    """:func:`payments.pay_premium`, the receipt as JSON."""
    return payments.pay_premium(session, req, now=now, pack=pack, from_account=from_account).model_dump(mode="json")


def payments_for_insured(session: Session, id_number: str) -> list[dict[str, Any]]:
    """:func:`payments.payments_for_insured`, the receipts as JSON."""
    return [r.model_dump(mode="json") for r in payments.payments_for_insured(session, id_number)]


def payments_by_payer(session: Session, id_number: str) -> list[dict[str, Any]]:
    """:func:`payments.payments_by_payer`, the receipts as JSON."""
    return [r.model_dump(mode="json") for r in payments.payments_by_payer(session, id_number)]
