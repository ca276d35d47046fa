"""Announcement drafts (what ICT wrote but has not sent yet; sent ones are campaigns), and the
recipients' receipts of announcements that asked to be acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class AnnouncementDraft(Base):
    """The form as it was saved, checked only when it is previewed or sent."""

    __tablename__ = "announcement_draft"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnouncementReceipt(Base):
    """A recipient's "read" on an announcement that asked for one; the first press counts."""

    __tablename__ = "announcement_receipt"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    acknowledged_at: Mapped[datetime]
