"""Tickets for reporting: the rows `phonebot tickets list` shows as a table or as CSV for Excel."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import as_utc
from bot.directory.models import Unit
from bot.tickets.models import Ticket

HEADERS = (
    "numero",
    "tila",
    "kiireellinen",
    "aihe",
    "yksikkö",
    "pyytäjä",
    "hoitaja",
    "luotu",
    "päivitetty",
    "odottanut_h",
    "kanavalla",
)


@dataclass(frozen=True)
class TicketRow:
    id: int
    state: str
    urgent: bool
    topic: str
    unit: str | None
    requester: str
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    on_channel: bool
    relay_error: str | None


async def ticket_rows(*, session: AsyncSession, states: Iterable[str] | None) -> list[TicketRow]:
    """Oldest first, as a queue is worked through."""
    query = (
        select(Ticket, Unit.name_fi)
        .outerjoin(Unit, Unit.code == Ticket.unit_code)
        .order_by(Ticket.id)
    )
    if states is not None:
        query = query.where(Ticket.state.in_(list(states)))
    return [
        TicketRow(
            id=ticket.id,
            state=ticket.state,
            urgent=ticket.urgent,
            topic=ticket.topic,
            unit=unit_name or ticket.unit_code,
            requester=ticket.requester_name,
            assignee=ticket.assignee_name,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            on_channel=ticket.card_activity_id is not None,
            relay_error=ticket.relay_error,
        )
        for ticket, unit_name in (await session.execute(query)).all()
    ]


def waiting_hours(row: TicketRow, now: datetime) -> float:
    return round((now - as_utc(row.created_at)).total_seconds() / 3600, 1)
