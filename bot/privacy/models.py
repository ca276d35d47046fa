"""The audit log of personal-data use, and the short-lived links to a person's own copy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class AuditEvent(Base):
    """One use of personal data: who, through what, which action, about whom, how many rows.

    Append-only: the database refuses updates (a trigger), and only retention deletes rows.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))  # Entra object id, or "cli:<os user>"
    channel: Mapped[str] = mapped_column(String(8))  # cli | tab | chat | link
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)  # whom it was about
    rows: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(8), default="shown")  # shown | refused


class CopyLink(Base):
    """A link to a person's own copy: only the token's hash is kept, and it expires soon."""

    __tablename__ = "copy_link"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
