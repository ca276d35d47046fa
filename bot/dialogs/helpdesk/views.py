"""Tickets as the cards show them, read in the session that acts on them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import as_utc
from bot.dialogs.helpdesk.cards import TicketLine
from bot.directory.models import Unit
from bot.i18n import Texts, texts
from bot.tickets import service as tickets
from bot.tickets.models import HelpdeskChannel, Ticket, TicketEvent

_MESSAGES = (tickets.REPLIED, tickets.ANSWERED)


async def ticket_line(session: AsyncSession, ticket: Ticket, language: str) -> TicketLine:
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


async def refresh_ids(session: AsyncSession) -> list[str]:
    """Teams user ids of the helpdesk team: their clients keep ticket cards current."""
    return [member.teams_id for member in await tickets.members(session=session)]


def channel_texts(channel: HelpdeskChannel | None, default_language: str) -> Texts:
    """The helpdesk channel speaks the language it was set up in."""
    return texts(channel.language if channel else default_language)
