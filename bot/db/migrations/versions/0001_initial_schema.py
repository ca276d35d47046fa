"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 14:43:00.606015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.create_table(
        "conversation_reference",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("conversation_type", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=512), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_reference")),
        sa.UniqueConstraint(
            "conversation_id", name=op.f("uq_conversation_reference_conversation_id")
        ),
    )
    with op.batch_alter_table("conversation_reference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_reference_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_reference_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "unit",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_fi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unit")),
    )
    op.create_table(
        "employee",
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("user_principal_name", sa.String(length=320), nullable=True),
        sa.Column("employee_number", sa.String(length=32), nullable=True),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("directory_language", sa.String(length=16), nullable=True),
        sa.Column("chosen_language", sa.String(length=8), nullable=True),
        sa.Column("account_enabled", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_employee_unit_code_unit")
        ),
        sa.PrimaryKeyConstraint("aad_object_id", name=op.f("pk_employee")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_employee_employee_number")),
        sa.UniqueConstraint("user_principal_name", name=op.f("uq_employee_user_principal_name")),
    )
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employee_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "phone_model",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("catalog_version_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("storage_gb", sa.Integer(), nullable=False),
        sa.Column("screen_inches", sa.Double(), nullable=False),
        sa.Column("camera_mp", sa.Integer(), nullable=False),
        sa.Column("dual_sim", sa.Boolean(), nullable=False),
        sa.Column("esim", sa.Boolean(), nullable=False),
        sa.Column("five_g", sa.Boolean(), nullable=False),
        sa.Column("os", sa.String(length=16), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("is_base", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_version_id"],
            ["catalog_version.id"],
            name=op.f("fk_phone_model_catalog_version_id_catalog_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_model")),
        sa.UniqueConstraint(
            "catalog_version_id", "sku", name=op.f("uq_phone_model_catalog_version_id")
        ),
    )
    with op.batch_alter_table("phone_model", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_model_catalog_version_id"), ["catalog_version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_model_catalog_version_id"))

    op.drop_table("phone_model")
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employee_unit_code"))

    op.drop_table("employee")
    op.drop_table("unit")
    with op.batch_alter_table("conversation_reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_reference_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_reference_aad_object_id"))

    op.drop_table("conversation_reference")
    op.drop_table("catalog_version")
    op.drop_table("bot_state")
