"""announcement receipt: who acknowledged an announcement that asked for it, and when

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcement_receipt",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_announcement_receipt_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "aad_object_id", name=op.f("pk_announcement_receipt")
        ),
    )


def downgrade() -> None:
    op.drop_table("announcement_receipt")
