"""One row per Teams conversation the bot has seen, kept current on every turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class ConversationReferenceRecord(Base):
    """A serialised Bot Framework conversation reference and the facts we query it by."""

    __tablename__ = "conversation_reference"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(512), unique=True)
    conversation_type: Mapped[str] = mapped_column(String(32), default="personal")
    channel_id: Mapped[str] = mapped_column(String(64))
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team_id: Mapped[str | None] = mapped_column(String(512))
    reference: Mapped[dict[str, object]] = mapped_column(JSON)
    installed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
