"""The domain services the portal calls, imported in this one place (modules move; pages do not change)."""

from __future__ import annotations

from yibao.accounts import balances, insurance, payments, sharing, withdrawals
from yibao.identity import service as identity
from yibao.people import schemas as people_schemas
from yibao.people import service as people
from yibao.premiums import service as premiums

__all__ = [
    "balances",
    "identity",
    "insurance",
    "payments",
    "people",
    "people_schemas",
    "premiums",
    "sharing",
    "withdrawals",
]
