"""Tickets written straight into the database, with the times of their first events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_session_factory
from bot.tickets.models import Ticket, TicketEvent


async def add_ticket(
    engine: AsyncEngine,
    created: datetime,
    state: str = "resolved",
    *,
    taken_after: timedelta | None = None,
    replied_after: timedelta | None = None,
) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        ticket = Ticket(
            request_token=uuid.uuid4().hex,
            requester_aad="a1",
            requester_name="Aino Aalto",
            requester_language="fi",
            topic="other",
            description="Puhelin ei käynnisty",
            state=state,
            created_at=created,
            updated_at=created,
        )
        session.add(ticket)
        await session.flush()
        session.add(TicketEvent(ticket_id=ticket.id, kind="created", at=created))
        for kind, after in (("taken", taken_after), ("replied", replied_after)):
            if after is not None:
                session.add(TicketEvent(ticket_id=ticket.id, kind=kind, at=created + after))
                # A later event of the same kind does not move the first one.
                session.add(TicketEvent(ticket_id=ticket.id, kind=kind, at=created + 2 * after))
