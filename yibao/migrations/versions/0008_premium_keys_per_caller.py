"""Premium payments' idempotency keys move to the one idempotency store, where a key belongs to its caller.

Until now a premium's key was unique per channel: one payer's key "1" on the 办事通 app blocked every other
payer's key "1" there. Keys now live in the shared store (``ledger_idempotency``), in the authenticated
caller's namespace; the payment row keeps its key for reference. A retry of a payment made before this
upgrade is answered "already paid" (the year's payment exists) instead of with its receipt again.

Revision ID: 0008_premium_keys_per_caller
Revises: 0007_ledger_hot_path
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0008_premium_keys_per_caller"
down_revision = "0007_ledger_hot_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("premium_payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_premium_payments_channel_key", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("premium_payments", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_premium_payments_channel_key", ["channel", "idempotency_key"])
