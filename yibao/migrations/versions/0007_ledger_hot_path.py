"""Ledger hot path: no index that no query uses on journal entries; room on account pages for HOT updates.

Every payment inserts a journal entry, and each index on it is written with it. No query looks entries
up by member (statements go through the member account's lines) or by time alone (the date filters
narrow the lines found by account), so those two indexes only cost. Account balances change all day:
PostgreSQL updates a row in place (HOT, no index writes) when its page has room, hence a fill factor.

Revision ID: 0007_ledger_hot_path
Revises: 0006_identities_audit
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0007_ledger_hot_path"
down_revision = "0006_identities_audit"
branch_labels = None
depends_on = None

# An operational setting (assumed): a third of each page left free for new row versions.
ACCOUNTS_FILLFACTOR = 70


def upgrade() -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_member_id")
        batch_op.drop_index("ix_journal_entries_created_at")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE ledger_accounts SET (fillfactor = {ACCOUNTS_FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_accounts RESET (fillfactor)")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entries_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_journal_entries_member_id", ["member_id"], unique=False)
