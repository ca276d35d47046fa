"""phone choices and rollout waves

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:20:39.586838
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollout_wave",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_wave")),
    )
    op.create_table(
        "rollout_wave_unit",
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_rollout_wave_unit_unit_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["rollout_wave.id"], name=op.f("fk_rollout_wave_unit_wave_id_rollout_wave")
        ),
        sa.PrimaryKeyConstraint("wave_id", "unit_code", name=op.f("pk_rollout_wave_unit")),
    )
    with op.batch_alter_table("rollout_wave_unit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rollout_wave_unit_unit_code"), ["unit_code"], unique=False
        )

    op.create_table(
        "phone_choice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("option", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone_model_id", sa.Integer(), nullable=True),
        sa.Column("catalog_version_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("city_share_cents", sa.Integer(), nullable=False),
        sa.Column("employee_share_cents", sa.Integer(), nullable=False),
        sa.Column("instalment_count", sa.Integer(), nullable=False),
        sa.Column("instalment_cents", sa.Integer(), nullable=False),
        sa.Column("first_instalment_cents", sa.Integer(), nullable=False),
        sa.Column("first_deduction_month", sa.Date(), nullable=True),
        sa.Column("consent_token", sa.String(length=64), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_language", sa.String(length=8), nullable=True),
        sa.Column("consent_summary", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["aad_object_id"],
            ["employee.aad_object_id"],
            name=op.f("fk_phone_choice_aad_object_id_employee"),
        ),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_version.id"],
            name=op.f("fk_phone_choice_catalog_version_id_catalog_version"),
        ),
        sa.ForeignKeyConstraint(
            ["phone_model_id"],
            ["phone_model.id"],
            name=op.f("fk_phone_choice_phone_model_id_phone_model"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_choice")),
        sa.UniqueConstraint("consent_token", name=op.f("uq_phone_choice_consent_token")),
    )
    with op.batch_alter_table("phone_choice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_choice_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(
            "uq_phone_choice_open_per_employee",
            ["aad_object_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('chosen', 'ordered', 'delivered')"),
            postgresql_where=sa.text("status IN ('chosen', 'ordered', 'delivered')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_choice", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_phone_choice_open_per_employee",
            sqlite_where=sa.text("status IN ('chosen', 'ordered', 'delivered')"),
            postgresql_where=sa.text("status IN ('chosen', 'ordered', 'delivered')"),
        )
        batch_op.drop_index(batch_op.f("ix_phone_choice_aad_object_id"))

    op.drop_table("phone_choice")
    with op.batch_alter_table("rollout_wave_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_wave_unit_unit_code"))

    op.drop_table("rollout_wave_unit")
    op.drop_table("rollout_wave")
