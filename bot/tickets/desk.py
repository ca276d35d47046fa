"""What employees and helpdesk agents do with tickets, one short transaction per action.

No Teams here: the helpdesk area checks who is acting, reads Teams' roster and renders the
results as cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.base import as_utc
from bot.tickets import service as tickets
from bot.tickets.models import HelpdeskChannel, Ticket
from bot.tickets.views import TicketLine, helpdesk_teams_ids, ticket_line


class TicketAction(Enum):
    """What an agent may do to a ticket from its card."""

    TAKE = "take"
    RELEASE = "release"
    REPLY = "reply"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    REFRESH = "refresh"  # nothing changes: the card is shown as the ticket is now


@dataclass(frozen=True)
class Acted:
    """An agent's action: the ticket as it is now (None: there is no such ticket), the Teams ids
    whose cards refresh themselves, whether it changed, and why not if it was refused."""

    line: TicketLine | None
    teams_ids: list[str]
    at: datetime
    changed: bool = False
    refused: str | None = None


@dataclass(frozen=True)
class Answered:
    """A requester's answer recorded (`reopened` if it reopened a resolved ticket)."""

    ticket_id: int
    reopened: bool


@dataclass(frozen=True)
class Opened:
    """A request's ticket; `created` is False when the same form was sent before."""

    ticket_id: int
    urgent: bool
    topic: str
    created: bool


class TicketDesk:
    """The tickets' side of every helpdesk action; the caller has checked who acts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    # The employee's side

    async def open(self, new: tickets.NewTicket) -> Opened:
        """The request's ticket, once however often its form is sent; TicketError if the form
        belongs to someone else's request."""
        async with self._sessions() as session, session.begin():
            ticket, created = await tickets.open_ticket(session=session, new=new, now=self._clock())
        return Opened(ticket.id, urgent=ticket.urgent, topic=ticket.topic, created=created)

    async def own_tickets(self, requester_aad: str, language: str, limit: int) -> list[TicketLine]:
        async with self._sessions() as session:
            own = await tickets.list_tickets(
                session=session, requester_aad=requester_aad, limit=limit
            )
            return [await ticket_line(session, ticket, language) for ticket in own]

    async def answer(self, ticket_id: int, requester_aad: str, token: str, text: str) -> Answered:
        """The requester's answer, once per answer box; TicketError says why not."""
        async with self._sessions() as session, session.begin():
            ticket, reopened = await tickets.answer(
                session=session,
                ticket_id=ticket_id,
                requester_aad=requester_aad,
                token=token,
                text=text,
                now=self._clock(),
            )
        return Answered(ticket.id, reopened)

    # The helpdesk channel's side

    async def channel(self) -> HelpdeskChannel | None:
        async with self._sessions() as session:
            return await tickets.helpdesk_channel(session=session)

    async def set_channel(
        self,
        *,
        team_id: str,
        channel_id: str,
        service_url: str,
        tenant_id: str | None,
        language: str,
        set_by: str,
    ) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.set_channel(
                session=session,
                team_id=team_id,
                channel_id=channel_id,
                service_url=service_url,
                tenant_id=tenant_id,
                language=language,
                set_by=set_by,
                now=self._clock(),
            )

    def roster_age(self, channel: HelpdeskChannel) -> timedelta | None:
        """How long ago the helpdesk team's roster was read; None if it never was."""
        fetched = channel.roster_fetched_at
        return None if fetched is None else self._clock() - as_utc(fetched)

    async def is_agent(self, aad_object_id: str) -> bool:
        """In the helpdesk team's roster as last read."""
        async with self._sessions() as session:
            return await tickets.is_member(session=session, aad_object_id=aad_object_id)

    async def replace_roster(self, members: list[tickets.Member]) -> None:
        async with self._sessions() as session, session.begin():
            await tickets.replace_roster(session=session, members=members, now=self._clock())

    async def members_changed(
        self, team_id: str, added: list[tickets.Member], removed: list[str]
    ) -> None:
        """Members joined or left a team: the roster follows if it is the helpdesk's team."""
        async with self._sessions() as session, session.begin():
            channel = await tickets.helpdesk_channel(session=session)
            if channel is None or channel.team_id != team_id:
                return
            if added:
                await tickets.add_members(session=session, members=added, now=self._clock())
            if removed:
                await tickets.remove_members(session=session, aad_object_ids=removed)

    async def act(
        self,
        action: TicketAction,
        ticket_id: int,
        version: int | None,
        agent: tickets.Actor,
        reply: str,
        language: str,
    ) -> Acted:
        """One agent action on the version the agent saw, and the ticket as it is afterwards."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            refused = None
            try:
                ticket = await _perform(session, action, ticket_id, version, agent, reply, now)
            except tickets.TicketError as error:
                if error.ticket is None:
                    return Acted(line=None, teams_ids=[], at=now, refused=error.reason)
                ticket, refused = error.ticket, error.reason
            line = await ticket_line(session, ticket, language)
            ids = await helpdesk_teams_ids(session)
        changed = refused is None and action is not TicketAction.REFRESH
        return Acted(line=line, teams_ids=ids, at=now, changed=changed, refused=refused)


_VERSIONED = {
    TicketAction.TAKE: tickets.take,
    TicketAction.RELEASE: tickets.release,
    TicketAction.RESOLVE: tickets.resolve,
    TicketAction.REOPEN: tickets.reopen,
}


async def _perform(
    session: AsyncSession,
    action: TicketAction,
    ticket_id: int,
    version: int | None,
    agent: tickets.Actor,
    reply: str,
    now: datetime,
) -> Ticket:
    if action is TicketAction.REFRESH:
        ticket = await tickets.ticket_of(session=session, ticket_id=ticket_id)
        if ticket is None:
            raise tickets.TicketError("not_found")
        return ticket
    if version is None:  # a change needs the version the agent saw
        raise tickets.TicketError("not_found")
    if action is TicketAction.REPLY:
        return await tickets.reply(
            session=session, ticket_id=ticket_id, version=version, actor=agent, text=reply, now=now
        )
    return await _VERSIONED[action](
        session=session, ticket_id=ticket_id, version=version, actor=agent, now=now
    )
