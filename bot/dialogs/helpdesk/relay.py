"""Tells the helpdesk channel and the requester about every ticket change, until they have heard.

What is owed lives in the database (the ticket's `relay_pending`, each event's note and notify
states), so a failed post is retried with back-off and survives a restart; meanwhile the ticket
is listed and can be acted on. Each ticket is claimed for a lease, so relays in several
processes never post the same note twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
from bot.clock import Clock, helsinki_today
from bot.delivery import TeamsDeliverer
from bot.dialogs.helpdesk.cards import (
    channel_texts,
    ticket_card,
    ticket_note,
    update_for_requester_card,
)
from bot.i18n import Texts
from bot.notifications.delivery import DeliveryFailed
from bot.notifications.quiet_hours import WorkingHours
from bot.tickets import service as tickets
from bot.tickets.models import HelpdeskChannel, Ticket, TicketEvent
from bot.tickets.views import helpdesk_teams_ids, ticket_line

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
BATCH = 20


class ChannelUnavailable(Exception):
    """No helpdesk channel is set yet: cards wait for one."""


class TicketRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        connector: BotConnectorClient,
        requesters: TeamsDeliverer,
        *,
        bot_id: str,
        default_language: str,
        working_hours: WorkingHours | None,
        reraise_after: timedelta,
        clock: Clock,
        lease: timedelta = timedelta(seconds=60),
        retry_base: timedelta = timedelta(seconds=30),
    ) -> None:
        self._sessions = sessions
        self._connector = connector
        self._requesters = requesters
        self._bot_id = bot_id
        self._default_language = default_language
        self._working_hours = working_hours
        self._reraise_after = reraise_after
        self._clock = clock
        self._lease = lease
        self._retry_base = retry_base
        self._running: asyncio.Task[int] | None = None
        self._again = False

    def kick(self) -> None:
        """Relay now, in the background: the action that changed a ticket does not wait."""
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = asyncio.create_task(self._run_until_quiet(), name="helpdesk relay")

    async def idle(self) -> None:
        """Waits for a kicked relay to finish (tests, shutdown)."""
        while self._running is not None and not self._running.done():
            await asyncio.wait({self._running})

    async def run_once(self) -> int:
        """Raises tickets nobody took, then relays everything owed; returns tickets finished."""
        await self._reraise_overdue()
        finished = 0
        while True:
            async with self._sessions() as session:
                pending = await tickets.pending_relay(
                    session=session, now=self._clock(), limit=BATCH
                )
            done = 0
            for ticket_id in pending:
                done += await self._relay(ticket_id)
            finished += done
            if len(pending) < BATCH or done == 0:
                return finished

    async def _run_until_quiet(self) -> int:
        finished = 0
        while True:
            self._again = False
            try:
                finished += await self.run_once()
            except Exception:
                log.exception("helpdesk relay round failed; the next round tries again")
            if not self._again:
                return finished

    async def _reraise_overdue(self) -> None:
        now = self._clock()
        if self._working_hours is not None and not self._working_hours.allows(now):
            return
        async with self._sessions() as session, session.begin():
            due = await tickets.due_for_reraise(
                session=session,
                now=now,
                older_than=self._reraise_after,
                today=helsinki_today(now),
            )
            for ticket_id in due:
                await tickets.reraise(
                    session=session, ticket_id=ticket_id, today=helsinki_today(now), now=now
                )
        if due:
            log.info("raised %d unassigned tickets again", len(due))

    async def _relay(self, ticket_id: int) -> int:
        async with self._sessions() as session, session.begin():
            work = await tickets.claim_relay(
                session=session, ticket_id=ticket_id, now=self._clock(), lease=self._lease
            )
            channel = await tickets.helpdesk_channel(session=session)
        if work is None:
            return 0
        try:
            await self._tell_channel(work, channel)
            for event in work.events:
                await self._tell_requester(work.ticket, event)
        except (ConnectorError, DeliveryFailed, ChannelUnavailable) as error:
            async with self._sessions() as session, session.begin():
                retry_at = await tickets.relay_failed(
                    session=session,
                    ticket_id=ticket_id,
                    now=self._clock(),
                    error=str(error) or type(error).__name__,
                    retry_base=self._retry_base,
                )
            log.warning(
                "ticket %s not relayed (%s); trying again at %s", ticket_id, error, retry_at
            )
            return 0
        async with self._sessions() as session, session.begin():
            await tickets.relay_finished(
                session=session, ticket_id=ticket_id, version=work.ticket.version
            )
        return 1

    async def _tell_channel(self, work: tickets.RelayWork, channel: HelpdeskChannel | None) -> None:
        """The card first (posted, or updated to the newest version), then the notes under it."""
        ticket = work.ticket
        notes = [event for event in work.events if event.note_state == tickets.PENDING]
        if (
            ticket.card_activity_id is not None
            and ticket.card_version >= ticket.version
            and not notes
        ):
            return
        if channel is None:
            raise ChannelUnavailable("no helpdesk channel is set")
        t = channel_texts(channel, self._default_language)
        async with self._sessions() as session:
            line = await ticket_line(session, ticket, t.language)
            ids = await helpdesk_teams_ids(session)
        content = ticket_card(t, line, viewer=None, refresh_ids=ids, now=self._clock())
        if ticket.card_activity_id is None or ticket.card_conversation_id is None:
            conversation_id, activity_id = await self._post_card(channel, content)
            async with self._sessions() as session, session.begin():
                await tickets.card_posted(
                    session=session,
                    ticket_id=ticket.id,
                    conversation_id=conversation_id,
                    activity_id=activity_id,
                    version=ticket.version,
                )
            ticket.card_conversation_id, ticket.card_activity_id = conversation_id, activity_id
        elif ticket.card_version < ticket.version:
            await self._connector.update_activity(
                channel.service_url,
                ticket.card_conversation_id,
                ticket.card_activity_id,
                {"type": "message", "id": ticket.card_activity_id, **_attached(content)},
            )
            async with self._sessions() as session, session.begin():
                await tickets.card_updated(
                    session=session, ticket_id=ticket.id, version=ticket.version
                )
        for event in notes:
            await self._post_note(
                channel, ticket.card_conversation_id, ticket.card_activity_id, t, event
            )
            async with self._sessions() as session, session.begin():
                await tickets.event_relayed(session=session, event_id=event.id, note=tickets.DONE)
            event.note_state = tickets.DONE

    async def _post_card(
        self, channel: HelpdeskChannel, content: dict[str, Any]
    ) -> tuple[str, str]:
        """A new thread in the channel; Teams answers with the thread's id and the card's."""
        tenant = {"id": channel.tenant_id} if channel.tenant_id else None
        answer = await self._connector.create_conversation(
            channel.service_url,
            {
                "isGroup": True,
                "bot": {"id": self._bot_id},
                "tenantId": channel.tenant_id,
                "channelData": {
                    "channel": {"id": channel.channel_id},
                    **({"tenant": tenant} if tenant else {}),
                },
                "activity": {"type": "message", **_attached(content)},
            },
        )
        conversation_id, activity_id = answer.get("id"), answer.get("activityId")
        if not isinstance(conversation_id, str) or not isinstance(activity_id, str):
            raise ConnectorError(None, f"posting to the channel answered {answer!r}")
        return conversation_id, activity_id

    async def _post_note(
        self,
        channel: HelpdeskChannel,
        conversation_id: str | None,
        activity_id: str | None,
        t: Texts,
        event: TicketEvent,
    ) -> None:
        assert conversation_id is not None and activity_id is not None
        note = {
            "type": "message",
            "textFormat": "markdown",
            "text": ticket_note(t, event.kind, actor=event.actor_name, message=event.text),
        }
        if ";messageid=" in conversation_id:
            await self._connector.send_to_conversation(channel.service_url, conversation_id, note)
        else:
            await self._connector.reply_to_activity(
                channel.service_url,
                conversation_id,
                activity_id,
                {**note, "replyToId": activity_id},
            )

    async def _tell_requester(self, ticket: Ticket, event: TicketEvent) -> None:
        if event.notify_state != tickets.PENDING:
            return
        state, ticket_id, form = tickets.DONE, ticket.id, tickets.new_token()
        try:
            await self._requesters.send_card_to(
                ticket.requester_aad,
                lambda t: update_for_requester_card(
                    t, ticket_id, event.kind, agent=event.actor_name, message=event.text, form=form
                ),
                language_hint=ticket.requester_language,
            )
        except DeliveryFailed as failure:
            if not failure.final:
                raise
            log.warning("ticket %s: the requester cannot be told (%s)", ticket_id, failure.reason)
            state = tickets.FAILED
        async with self._sessions() as session, session.begin():
            await tickets.event_relayed(session=session, event_id=event.id, notify=state)
        event.notify_state = state


def _attached(content: dict[str, Any]) -> dict[str, Any]:
    return {"attachments": [{"contentType": ADAPTIVE_CARD, "content": content}]}
