"""Tickets, their history, the helpdesk channel and who may act in it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class TicketState(StrEnum):
    """Open until someone of the helpdesk takes it; resolved until reopened."""

    OPEN = "open"
    TAKEN = "taken"
    RESOLVED = "resolved"


class Ticket(Base):
    """One request for a person; `version` grows with every change, so a stale card is noticed.

    `relay_pending` says the channel's card, its thread or the requester has not yet been told
    of the newest change; the relay clears it only for the version it finished.
    """

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    request_token: Mapped[str] = mapped_column(String(64), unique=True)
    requester_aad: Mapped[str] = mapped_column(String(64), index=True)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_language: Mapped[str] = mapped_column(String(8))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    asked: Mapped[str | None] = mapped_column(Text)
    bot_answer: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | taken | resolved
    assignee_aad: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    reraised_on: Mapped[date | None]
    relay_pending: Mapped[bool] = mapped_column(default=True, index=True)
    relay_claimed_until: Mapped[datetime | None]
    relay_attempts: Mapped[int] = mapped_column(default=0)
    relay_retry_at: Mapped[datetime | None]
    relay_error: Mapped[str | None] = mapped_column(String(300))
    card_conversation_id: Mapped[str | None] = mapped_column(String(512))
    card_activity_id: Mapped[str | None] = mapped_column(String(256))
    card_version: Mapped[int] = mapped_column(default=0)


class TicketEvent(Base):
    """One change or message in a ticket's life, with whether its channel note and its word to
    the requester have gone out (`pending`, `done`, `none`, or `failed` for good).

    `token` is the answer box's form token on a requester's answer: one answer per box press.
    """

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket_id_token", "ticket_id", "token", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_aad: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note_state: Mapped[str] = mapped_column(String(8), default="pending")
    notify_state: Mapped[str] = mapped_column(String(8), default="none")
    token: Mapped[str | None] = mapped_column(String(64))


class HelpdeskChannel(Base):
    """The one Teams channel tickets go to, set there by an ICT admin."""

    __tablename__ = "helpdesk_channel"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    team_id: Mapped[str] = mapped_column(String(512))
    channel_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    roster_fetched_at: Mapped[datetime | None]


class HelpdeskMember(Base):
    """A member of the helpdesk channel's team: only they may act on tickets."""

    __tablename__ = "helpdesk_member"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    teams_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
