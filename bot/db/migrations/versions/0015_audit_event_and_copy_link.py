"""audit log of personal-data use (append-only), links to a person's own copy, and indexes on
the columns a person's copy and the retention purge look people up by

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PEOPLE_LOOKUPS = (
    ("faq_question", "asker_aad"),
    ("ticket", "assignee_aad"),
    ("ticket_event", "actor_aad"),
)
_REFUSE_UPDATE_SQLITE = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END
"""
_REFUSE_UPDATE_POSTGRESQL = (
    """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$
""",
    """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
""",
)


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"], unique=False)
    op.create_index("ix_audit_event_actor_at", "audit_event", ["actor", "at"], unique=False)
    op.create_index(op.f("ix_audit_event_subject"), "audit_event", ["subject"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in _REFUSE_UPDATE_POSTGRESQL:
            op.execute(statement)
    else:
        op.execute(_REFUSE_UPDATE_SQLITE)
    op.create_table(
        "copy_link",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_copy_link")),
    )
    op.create_index(
        op.f("ix_copy_link_aad_object_id"), "copy_link", ["aad_object_id"], unique=False
    )
    for table, column in _PEOPLE_LOOKUPS:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in _PEOPLE_LOOKUPS:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    op.drop_table("copy_link")
    op.execute(
        "DROP TRIGGER IF EXISTS audit_event_append_only"
        + (" ON audit_event" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    op.drop_table("audit_event")
