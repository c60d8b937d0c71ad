"""Detail reconciliation: the files institutions upload (9101) and the results of comparing them (3202).

Revision ID: 0014_statement_files
Revises: 0013_claims
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_statement_files"
down_revision = "0013_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_statement_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_qury_no", sa.String(length=30), nullable=False),
        sa.Column("institution_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=True),
        sa.Column("msgid", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dld_endtime", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_statement_files")),
        sa.UniqueConstraint("file_qury_no", name="uq_claim_statement_files_file_qury_no"),
    )
    with op.batch_alter_table("claim_statement_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_claim_statement_files_institution_end", ["institution_code", "dld_endtime"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claim_statement_files", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_statement_files_institution_end")

    op.drop_table("claim_statement_files")
