"""Tickets as the helpdesk's cards show them: one line per ticket, read in the session that acts
on it, and who keeps the cards current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import as_utc
from bot.directory.models import Unit
from bot.tickets import service as tickets
from bot.tickets.models import Ticket, TicketEvent

_MESSAGES = (tickets.REPLIED, tickets.ANSWERED)


@dataclass(frozen=True)
class TicketLine:
    """A ticket as a card shows it."""

    id: int
    version: int
    state: str
    topic: str
    description: str
    urgent: bool
    requester_name: str
    unit_name: str | None
    asked: str | None
    bot_answer: str | None
    assignee_aad: str | None
    assignee_name: str | None
    created_at: datetime
    updated_at: datetime
    last_message: str | None = None


async def ticket_line(session: AsyncSession, ticket: Ticket, language: str) -> TicketLine:
    """The ticket with its unit's name in the language, and its latest message."""
    unit_name = None
    if ticket.unit_code:
        unit = await session.get(Unit, ticket.unit_code)
        if unit is not None:
            unit_name = unit.name_en if language == "en" and unit.name_en else unit.name_fi
    last = await session.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(_MESSAGES))
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    return TicketLine(
        id=ticket.id,
        version=ticket.version,
        state=ticket.state,
        topic=ticket.topic,
        description=ticket.description,
        urgent=ticket.urgent,
        requester_name=ticket.requester_name,
        unit_name=unit_name,
        asked=ticket.asked,
        bot_answer=ticket.bot_answer,
        assignee_aad=ticket.assignee_aad,
        assignee_name=ticket.assignee_name,
        created_at=as_utc(ticket.created_at),
        updated_at=as_utc(ticket.updated_at),
        last_message=f"{last.actor_name}: {last.text}" if last and last.text else None,
    )


async def helpdesk_teams_ids(session: AsyncSession) -> list[str]:
    """Teams user ids of the helpdesk team: their clients keep ticket cards current."""
    return [member.teams_id for member in await tickets.members(session=session)]
