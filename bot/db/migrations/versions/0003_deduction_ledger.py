"""deduction ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:42:19.988088
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payroll_import",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payroll_import")),
    )
    with op.batch_alter_table("payroll_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payroll_import_sha256"), ["sha256"], unique=False)

    op.create_table(
        "pending_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["aad_object_id"],
            ["employee.aad_object_id"],
            name=op.f("fk_pending_notice_aad_object_id_employee"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_notice")),
    )
    with op.batch_alter_table("pending_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_notice_aad_object_id"), ["aad_object_id"], unique=False
        )

    op.create_table(
        "deduction_plan",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("instalment_count", sa.Integer(), nullable=False),
        sa.Column("first_instalment_cents", sa.Integer(), nullable=False),
        sa.Column("instalment_cents", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["aad_object_id"],
            ["employee.aad_object_id"],
            name=op.f("fk_deduction_plan_aad_object_id_employee"),
        ),
        sa.ForeignKeyConstraint(
            ["choice_id"],
            ["phone_choice.id"],
            name=op.f("fk_deduction_plan_choice_id_phone_choice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deduction_plan")),
        sa.UniqueConstraint("choice_id", name=op.f("uq_deduction_plan_choice_id")),
    )
    with op.batch_alter_table("deduction_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deduction_plan_aad_object_id"), ["aad_object_id"], unique=False
        )

    op.create_table(
        "payroll_posting",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["payroll_import.id"],
            name=op.f("fk_payroll_posting_import_id_payroll_import"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["deduction_plan.id"],
            name=op.f("fk_payroll_posting_plan_id_deduction_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payroll_posting")),
        sa.UniqueConstraint("plan_id", "period", name=op.f("uq_payroll_posting_plan_id")),
    )
    with op.batch_alter_table("payroll_posting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payroll_posting_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "payroll_correction",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("old_amount_cents", sa.Integer(), nullable=False),
        sa.Column("new_amount_cents", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["payroll_import.id"],
            name=op.f("fk_payroll_correction_import_id_payroll_import"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["payroll_posting.id"],
            name=op.f("fk_payroll_correction_posting_id_payroll_posting"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payroll_correction")),
    )
    with op.batch_alter_table("payroll_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payroll_correction_posting_id"), ["posting_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payroll_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payroll_correction_posting_id"))

    op.drop_table("payroll_correction")
    with op.batch_alter_table("payroll_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payroll_posting_plan_id"))

    op.drop_table("payroll_posting")
    with op.batch_alter_table("deduction_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deduction_plan_aad_object_id"))

    op.drop_table("deduction_plan")
    with op.batch_alter_table("pending_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_notice_aad_object_id"))

    op.drop_table("pending_notice")
    with op.batch_alter_table("payroll_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payroll_import_sha256"))

    op.drop_table("payroll_import")
