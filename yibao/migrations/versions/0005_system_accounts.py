"""System counterpart accounts: every purpose in 8 shards, created once so they are never looked up in vain.

Revision ID: 0005_system_accounts
Revises: 0004_accounts_use_cases
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005_system_accounts"
down_revision = "0004_accounts_use_cases"
branch_labels = None
depends_on = None

PURPOSES = ("contributions", "settlements", "premiums", "insurers", "withdrawals", "holds")
SHARDS = 8  # yibao.accounts.ledger.SYSTEM_SHARDS at the time of this migration


def upgrade() -> None:
    accounts = sa.table(
        "ledger_accounts",
        sa.column("purpose", sa.String),
        sa.column("owner_id", sa.Integer),
        sa.column("shard", sa.Integer),
        sa.column("balance", sa.BigInteger),
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    existing = {
        (p, s)
        for p, s in op.get_bind().execute(sa.text("SELECT purpose, shard FROM ledger_accounts WHERE owner_id IS NULL"))
    }
    rows = [
        {"purpose": p, "owner_id": None, "shard": s, "balance": 0, "status": "open", "created_at": now}
        for p in PURPOSES
        for s in range(SHARDS)
        if (p, s) not in existing
    ]
    if rows:
        op.bulk_insert(accounts, rows)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_accounts WHERE owner_id IS NULL AND balance = 0")
