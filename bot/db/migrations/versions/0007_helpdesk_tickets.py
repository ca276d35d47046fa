"""helpdesk tickets, their history, the helpdesk channel and its members

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=512), nullable=False),
        sa.Column("channel_id", sa.String(length=512), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("roster_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_channel")),
    )
    op.create_table(
        "helpdesk_member",
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("teams_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id", name=op.f("pk_helpdesk_member")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_token", sa.String(length=64), nullable=False),
        sa.Column("requester_aad", sa.String(length=64), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("requester_language", sa.String(length=8), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("asked", sa.Text(), nullable=True),
        sa.Column("bot_answer", sa.Text(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee_aad", sa.String(length=64), nullable=True),
        sa.Column("assignee_name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reraised_on", sa.Date(), nullable=True),
        sa.Column("relay_pending", sa.Boolean(), nullable=False),
        sa.Column("relay_claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("relay_attempts", sa.Integer(), nullable=False),
        sa.Column("relay_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("relay_error", sa.String(length=300), nullable=True),
        sa.Column("card_conversation_id", sa.String(length=512), nullable=True),
        sa.Column("card_activity_id", sa.String(length=256), nullable=True),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("request_token", name=op.f("uq_ticket_request_token")),
    )
    op.create_index(op.f("ix_ticket_relay_pending"), "ticket", ["relay_pending"], unique=False)
    op.create_index(op.f("ix_ticket_requester_aad"), "ticket", ["requester_aad"], unique=False)
    op.create_index(op.f("ix_ticket_state"), "ticket", ["state"], unique=False)
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_aad", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_state", sa.String(length=8), nullable=False),
        sa.Column("notify_state", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_event_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    op.create_index(op.f("ix_ticket_event_ticket_id"), "ticket_event", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_event_ticket_id"), table_name="ticket_event")
    op.drop_table("ticket_event")
    op.drop_index(op.f("ix_ticket_state"), table_name="ticket")
    op.drop_index(op.f("ix_ticket_requester_aad"), table_name="ticket")
    op.drop_index(op.f("ix_ticket_relay_pending"), table_name="ticket")
    op.drop_table("ticket")
    op.drop_table("helpdesk_member")
    op.drop_table("helpdesk_channel")
