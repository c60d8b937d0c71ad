"""Real-time settlement: visits, diagnoses, fee lines, settlements, yearly and monthly accumulators, filings.

Revision ID: 0013_claims
Revises: 0010_catalogue
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_claims"
down_revision = "0010_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_accumulators",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year_start", sa.Date(), nullable=False),
        sa.Column("fund_paid", sa.BigInteger(), nullable=False),
        sa.Column("catastrophic_base", sa.BigInteger(), nullable=False),
        sa.Column("general_outpatient_paid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_claim_accumulators_person_id_persons")),
        sa.PrimaryKeyConstraint("person_id", "year_start", name=op.f("pk_claim_accumulators")),
    )
    op.create_table(
        "claim_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trt_dcla_detl_sn", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("institution_code", sa.String(length=12), nullable=False),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("diag_code", sa.String(length=48), nullable=False),
        sa.Column("diag_name", sa.String(length=200), nullable=False),
        sa.Column("begndate", sa.Date(), nullable=False),
        sa.Column("enddate", sa.Date(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("msgid", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_memo", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_claim_filings_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_filings")),
        sa.UniqueConstraint("trt_dcla_detl_sn", name="uq_claim_filings_sn"),
    )
    with op.batch_alter_table("claim_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_filings_person_id"), ["person_id"], unique=False)

    op.create_table(
        "claim_month_accumulators",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=6), nullable=False),
        sa.Column("disease", sa.String(length=48), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_claim_month_accumulators_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", "month", "disease", name=op.f("pk_claim_month_accumulators")),
    )
    op.create_table(
        "claim_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mdtrt_id", sa.String(length=30), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("institution_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("med_type", sa.String(length=2), nullable=True),
        sa.Column("matn_type", sa.String(length=1), nullable=True),
        sa.Column("ipt_otp_no", sa.String(length=30), nullable=False),
        sa.Column("mdtrt_cert_type", sa.String(length=3), nullable=False),
        sa.Column("begntime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("endtime", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dscg_way", sa.String(length=2), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("opened_msgid", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_claim_visits_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_visits")),
        sa.UniqueConstraint("mdtrt_id", name=op.f("uq_claim_visits_mdtrt_id")),
    )
    with op.batch_alter_table("claim_visits", schema=None) as batch_op:
        batch_op.create_index("ix_claim_visits_opened_msgid", ["institution_code", "opened_msgid"], unique=False)
        batch_op.create_index("ix_claim_visits_person_institution", ["person_id", "institution_code"], unique=False)

    op.create_table(
        "claim_diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("diag_type", sa.String(length=2), nullable=True),
        sa.Column("diag_srt_no", sa.Integer(), nullable=True),
        sa.Column("diag_code", sa.String(length=30), nullable=False),
        sa.Column("diag_name", sa.String(length=200), nullable=False),
        sa.Column("main", sa.Boolean(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["claim_visits.id"], name=op.f("fk_claim_diagnoses_visit_id_claim_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_diagnoses")),
    )
    with op.batch_alter_table("claim_diagnoses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_diagnoses_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "claim_settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("institution_code", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("msgid", sa.String(length=30), nullable=False),
        sa.Column("invono", sa.String(length=30), nullable=True),
        sa.Column("setl_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("med_type", sa.String(length=2), nullable=False),
        sa.Column("clr_type", sa.String(length=2), nullable=False),
        sa.Column("clr_optins", sa.String(length=6), nullable=False),
        sa.Column("benefit_year", sa.Date(), nullable=True),
        sa.Column("medfee_sumamt", sa.BigInteger(), nullable=False),
        sa.Column("fund_pay_sumamt", sa.BigInteger(), nullable=False),
        sa.Column("acct_pay", sa.BigInteger(), nullable=False),
        sa.Column("acct_mulaid_pay", sa.BigInteger(), nullable=False),
        sa.Column("psn_cash_pay", sa.BigInteger(), nullable=False),
        sa.Column("add_fund_paid", sa.BigInteger(), nullable=False),
        sa.Column("add_catastrophic_base", sa.BigInteger(), nullable=False),
        sa.Column("add_general_outpatient_paid", sa.BigInteger(), nullable=False),
        sa.Column("add_month_used", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.String(length=6), nullable=True),
        sa.Column("disease", sa.String(length=48), nullable=True),
        sa.Column("acct_entry_id", sa.Integer(), nullable=True),
        sa.Column("mulaid_entry_id", sa.Integer(), nullable=True),
        sa.Column("mulaid_holder_id", sa.Integer(), nullable=True),
        sa.Column("setlinfo", sa.Text(), nullable=False),
        sa.Column("setldetail", sa.Text(), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversal_msgid", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["acct_entry_id"], ["journal_entries.id"], name=op.f("fk_claim_settlements_acct_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["mulaid_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_claim_settlements_mulaid_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["mulaid_holder_id"], ["persons.id"], name=op.f("fk_claim_settlements_mulaid_holder_id_persons")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_claim_settlements_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["claim_visits.id"], name=op.f("fk_claim_settlements_visit_id_claim_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_settlements")),
        sa.UniqueConstraint("setl_id", name=op.f("uq_claim_settlements_setl_id")),
    )
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.create_index("ix_claim_settlements_institution_time", ["institution_code", "setl_time"], unique=False)
        batch_op.create_index("ix_claim_settlements_msgid", ["institution_code", "msgid"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_settlements_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_settlements_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "claim_fee_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("feedetl_sn", sa.String(length=30), nullable=False),
        sa.Column("init_feedetl_sn", sa.String(length=30), nullable=True),
        sa.Column("chrg_bchno", sa.String(length=30), nullable=True),
        sa.Column("med_list_codg", sa.String(length=50), nullable=False),
        sa.Column("medins_list_codg", sa.String(length=50), nullable=True),
        sa.Column("fee_ocur_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cnt", sa.BigInteger(), nullable=False),
        sa.Column("pric", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("list_type", sa.String(length=3), nullable=True),
        sa.Column("med_chrgitm_type", sa.String(length=6), nullable=True),
        sa.Column("flags", sa.String(length=8), nullable=False),
        sa.Column("chrgitm_lv", sa.String(length=2), nullable=False),
        sa.Column("price_ceiling", sa.BigInteger(), nullable=True),
        sa.Column("fulamt_ownpay", sa.BigInteger(), nullable=False),
        sa.Column("overlmt", sa.BigInteger(), nullable=False),
        sa.Column("preselfpay", sa.BigInteger(), nullable=False),
        sa.Column("inscp", sa.BigInteger(), nullable=False),
        sa.Column("selfpay_prop", sa.String(length=12), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"], ["claim_settlements.id"], name=op.f("fk_claim_fee_lines_settlement_id_claim_settlements")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["claim_visits.id"], name=op.f("fk_claim_fee_lines_visit_id_claim_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_fee_lines")),
    )
    with op.batch_alter_table("claim_fee_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_fee_lines_settlement_id"), ["settlement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_fee_lines_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index(
            "uq_claim_fee_lines_active_sn",
            ["visit_id", "feedetl_sn"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("claim_fee_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_claim_fee_lines_active_sn",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_claim_fee_lines_visit_id"))
        batch_op.drop_index(batch_op.f("ix_claim_fee_lines_settlement_id"))

    op.drop_table("claim_fee_lines")
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_settlements_visit_id"))
        batch_op.drop_index(batch_op.f("ix_claim_settlements_person_id"))
        batch_op.drop_index("ix_claim_settlements_msgid")
        batch_op.drop_index("ix_claim_settlements_institution_time")

    op.drop_table("claim_settlements")
    with op.batch_alter_table("claim_diagnoses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_diagnoses_visit_id"))

    op.drop_table("claim_diagnoses")
    with op.batch_alter_table("claim_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_visits_person_institution")
        batch_op.drop_index("ix_claim_visits_opened_msgid")

    op.drop_table("claim_visits")
    op.drop_table("claim_month_accumulators")
    with op.batch_alter_table("claim_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_filings_person_id"))

    op.drop_table("claim_filings")
    op.drop_table("claim_accumulators")
