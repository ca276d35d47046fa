"""What the helpdesk relay owes the channel and the requesters, one short transaction per step.

No Teams here: the relay posts the cards and notes and records each step here as it is done, so a
failed post is retried and a restart loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, helsinki_today
from bot.tickets import service as tickets
from bot.tickets.models import HelpdeskChannel, Ticket
from bot.tickets.views import TicketLine, helpdesk_teams_ids, ticket_line


@dataclass(frozen=True)
class Claimed:
    """A ticket this process relays now, and the channel as it was when claimed."""

    work: tickets.RelayWork
    channel: HelpdeskChannel | None


@dataclass(frozen=True)
class CardView:
    """A ticket as its channel card shows it, and the Teams ids whose cards refresh themselves."""

    line: TicketLine
    teams_ids: list[str]


class RelayLedger:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def reraise_overdue(self, older_than: timedelta) -> int:
        """Unassigned tickets older than `older_than` raised again (once a day); how many."""
        now = self._clock()
        today = helsinki_today(now)
        async with self._sessions() as session, session.begin():
            due = await tickets.due_for_reraise(
                session=session, now=now, older_than=older_than, today=today
            )
            for ticket_id in due:
                await tickets.reraise(session=session, ticket_id=ticket_id, today=today, now=now)
        return len(due)

    async def pending(self, limit: int) -> list[int]:
        async with self._sessions() as session:
            return await tickets.pending_relay(session=session, now=self._clock(), limit=limit)

    async def claim(self, ticket_id: int, lease: timedelta) -> Claimed | None:
        """This process's turn to relay the ticket, or None if another process has it."""
        async with self._sessions() as session, session.begin():
            work = await tickets.claim_relay(
                session=session, ticket_id=ticket_id, now=self._clock(), lease=lease
            )
            channel = await tickets.helpdesk_channel(session=session)
        return None if work is None else Claimed(work, channel)

    async def card_view(self, ticket: Ticket, language: str) -> CardView:
        async with self._sessions() as session:
            line = await ticket_line(session, ticket, language)
            return CardView(line, await helpdesk_teams_ids(session))

    async def card_posted(
        self, ticket_id: int, conversation_id: str, activity_id: str, version: int
    ) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.card_posted(
                session=session,
                ticket_id=ticket_id,
                conversation_id=conversation_id,
                activity_id=activity_id,
                version=version,
            )

    async def card_updated(self, ticket_id: int, version: int) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.card_updated(session=session, ticket_id=ticket_id, version=version)

    async def note_posted(self, event_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.event_relayed(session=session, event_id=event_id, note=tickets.DONE)

    async def requester_told(self, event_id: int, state: str) -> None:
        """DONE, or FAILED when the requester can never be reached."""
        async with self._sessions() as session, session.begin():
            await tickets.event_relayed(session=session, event_id=event_id, notify=state)

    async def finished(self, ticket_id: int, version: int) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.relay_finished(session=session, ticket_id=ticket_id, version=version)

    async def failed(self, ticket_id: int, error: str, retry_base: timedelta) -> datetime:
        """When the relay tries the ticket again, backing off."""
        async with self._sessions() as session, session.begin():
            return await tickets.relay_failed(
                session=session,
                ticket_id=ticket_id,
                now=self._clock(),
                error=error,
                retry_base=retry_base,
            )
