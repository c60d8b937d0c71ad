"""Designated institutions with sealed signing secrets; the national interface's nonces and sign-ins;
insured-person numbers (psn_no, issued to every person on file) and social-security card numbers.

Revision ID: 0009_institutions
Revises: 0008_premium_keys_per_caller
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_institutions"
down_revision = "0008_premium_keys_per_caller"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("designated_from", sa.Date(), nullable=False),
        sa.Column("designated_until", sa.Date(), nullable=True),
        sa.Column("paasid", sa.String(length=64), nullable=False),
        sa.Column("secret_sealed", sa.String(length=128), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("infcode_string", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["auth_identities.id"], name=op.f("fk_institutions_identity_id_auth_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("code", name=op.f("uq_institutions_code")),
        sa.UniqueConstraint("identity_id", name=op.f("uq_institutions_identity_id")),
        sa.UniqueConstraint("paasid", name=op.f("uq_institutions_paasid")),
    )
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_institutions_region"), ["region"], unique=False)

    op.create_table(
        "nhsa_nonces",
        sa.Column("paasid", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("paasid", "nonce", name=op.f("pk_nhsa_nonces")),
    )
    with op.batch_alter_table("nhsa_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nhsa_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "nhsa_signins",
        sa.Column("sign_no", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("opter_no", sa.String(length=30), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msgid", sa.String(length=30), nullable=False),
        sa.Column("sign_out_msgid", sa.String(length=30), nullable=True),
        sa.Column("opter_type", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_nhsa_signins_institution_id_institutions")
        ),
        sa.PrimaryKeyConstraint("sign_no", name=op.f("pk_nhsa_signins")),
    )
    with op.batch_alter_table("nhsa_signins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nhsa_signins_institution_id"), ["institution_id"], unique=False)

    # Every person on file gets an insured-person number now (16 random hex characters, as new persons get
    # from yibao.people.models.new_psn_no); then the column becomes required and unique.
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("psn_no", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("card_no", sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE persons SET psn_no = upper(substr(md5(random()::text || id::text), 1, 16))")
    else:
        op.execute("UPDATE persons SET psn_no = upper(hex(randomblob(8)))")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("psn_no", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_persons_psn_no"), ["psn_no"])
        batch_op.create_unique_constraint(batch_op.f("uq_persons_card_no"), ["card_no"])


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_persons_card_no"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_persons_psn_no"), type_="unique")
        batch_op.drop_column("card_no")
        batch_op.drop_column("psn_no")
    with op.batch_alter_table("nhsa_signins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nhsa_signins_institution_id"))
    op.drop_table("nhsa_signins")
    with op.batch_alter_table("nhsa_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nhsa_nonces_seen_at"))
    op.drop_table("nhsa_nonces")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institutions_region"))
    op.drop_table("institutions")
