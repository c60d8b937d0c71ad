"""The medical catalogue (医保目录): one row per version of an item, dated, never overlapping per code.

Revision ID: 0010_catalogue
Revises: 0009_institutions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_catalogue"
down_revision = "0009_institutions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("list_type", sa.String(length=3), nullable=False),
        sa.Column("chrgitm_lv", sa.String(length=2), nullable=False),
        sa.Column("med_chrgitm_type", sa.String(length=6), nullable=False),
        sa.Column("price_ceiling", sa.BigInteger(), nullable=True),
        sa.Column("begndate", sa.Date(), nullable=False),
        sa.Column("enddate", sa.Date(), nullable=True),
        sa.Column("lmt_used_flag", sa.String(length=1), nullable=False),
        sa.Column("bas_medn_flag", sa.String(length=1), nullable=False),
        sa.Column("hi_nego_drug_flag", sa.String(length=1), nullable=False),
        sa.Column("chld_medc_flag", sa.String(length=1), nullable=False),
        sa.Column("list_sp_item_flag", sa.String(length=1), nullable=False),
        sa.Column("drt_reim_flag", sa.String(length=1), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("enddate IS NULL OR begndate <= enddate", name=op.f("ck_catalogue_items_dates_in_order")),
        sa.CheckConstraint(
            "list_type IN ('101', '102', '201', '301')", name=op.f("ck_catalogue_items_list_type_known")
        ),
        sa.CheckConstraint("chrgitm_lv IN ('01', '02', '03')", name=op.f("ck_catalogue_items_chrgitm_lv_known")),
        sa.CheckConstraint(
            "price_ceiling IS NULL OR price_ceiling >= 0", name=op.f("ck_catalogue_items_price_ceiling_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_items")),
        sa.UniqueConstraint("code", "begndate", name="uq_catalogue_items_code_begndate"),
    )
    with op.batch_alter_table("catalogue_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_items_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalogue_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_items_updated_at"))
    op.drop_table("catalogue_items")
