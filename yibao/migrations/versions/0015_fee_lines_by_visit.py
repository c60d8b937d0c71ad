"""A visit's unsettled fee lines found by one index (visit_id, settlement_id), replacing the one on visit_id.

A settlement sums and links the visit's lines whose settlement_id is null. With separate indexes on visit_id
and settlement_id, PostgreSQL combined the two, the second scanning every unsettled line of every open
visit: a settlement's cost grew with the number of open visits in the province.

Revision ID: 0015_fee_lines_by_visit
Revises: 0014_statement_files
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0015_fee_lines_by_visit"
down_revision = "0014_statement_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_fee_lines", schema=None) as batch_op:
        batch_op.create_index("ix_claim_fee_lines_visit_settlement", ["visit_id", "settlement_id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_claim_fee_lines_visit_id"))


def downgrade() -> None:
    with op.batch_alter_table("claim_fee_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_fee_lines_visit_id"), ["visit_id"], unique=False)
        batch_op.drop_index("ix_claim_fee_lines_visit_settlement")
