"""faq questions and feedback

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_question")),
    )
    op.create_index(op.f("ix_faq_question_band"), "faq_question", ["band"], unique=False)
    op.create_index(op.f("ix_faq_question_asked_at"), "faq_question", ["asked_at"], unique=False)
    op.create_table(
        "faq_feedback",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["faq_question.id"],
            name=op.f("fk_faq_feedback_question_id_faq_question"),
        ),
        sa.PrimaryKeyConstraint("question_id", "topic_id", name=op.f("pk_faq_feedback")),
    )
    op.create_index(op.f("ix_faq_feedback_topic_id"), "faq_feedback", ["topic_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_faq_feedback_topic_id"), table_name="faq_feedback")
    op.drop_table("faq_feedback")
    op.drop_index(op.f("ix_faq_question_asked_at"), table_name="faq_question")
    op.drop_index(op.f("ix_faq_question_band"), table_name="faq_question")
    op.drop_table("faq_question")
