"""notification report index: a campaign's counts read from the index alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["campaign_id", "state", "reason", "outcome", "attempts", "sent_at"]


def upgrade() -> None:
    op.create_index("ix_notification_report", "notification", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_notification_report", table_name="notification")
