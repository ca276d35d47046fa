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

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
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
from bot.tickets.ledger import RelayLedger
from bot.tickets.models import HelpdeskChannel, Ticket, TicketEvent

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
BATCH = 20


class ChannelUnavailable(Exception):
    """No helpdesk channel is set yet: cards wait for one."""


class TicketRelay:
    def __init__(
        self,
        ledger: RelayLedger,
        connector: BotConnectorClient,
        requesters: TeamsDeliverer,
        *,
        bot_id: str,
        default_language: str,
        working_hours: WorkingHours | None,
        reraise_after: timedelta,
        lease: timedelta = timedelta(seconds=60),
        retry_base: timedelta = timedelta(seconds=30),
    ) -> None:
        self._ledger = ledger
        self._connector = connector
        self._requesters = requesters
        self._bot_id = bot_id
        self._default_language = default_language
        self._working_hours = working_hours
        self._reraise_after = reraise_after
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
            pending = await self._ledger.pending(BATCH)
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
        if self._working_hours is not None and not self._working_hours.allows(self._ledger.now()):
            return
        raised = await self._ledger.reraise_overdue(self._reraise_after)
        if raised:
            log.info("raised %d unassigned tickets again", raised)

    async def _relay(self, ticket_id: int) -> int:
        claimed = await self._ledger.claim(ticket_id, self._lease)
        if claimed is None:
            return 0
        work = claimed.work
        try:
            await self._tell_channel(work, claimed.channel)
            for event in work.events:
                await self._tell_requester(work.ticket, event)
        except (ConnectorError, DeliveryFailed, ChannelUnavailable) as error:
            retry_at = await self._ledger.failed(
                ticket_id, str(error) or type(error).__name__, self._retry_base
            )
            log.warning(
                "ticket %s not relayed (%s); trying again at %s", ticket_id, error, retry_at
            )
            return 0
        await self._ledger.finished(ticket_id, work.ticket.version)
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
        view = await self._ledger.card_view(ticket, t.language)
        content = ticket_card(
            t, view.line, viewer=None, refresh_ids=view.teams_ids, now=self._ledger.now()
        )
        if ticket.card_activity_id is None or ticket.card_conversation_id is None:
            conversation_id, activity_id = await self._post_card(channel, content)
            await self._ledger.card_posted(ticket.id, conversation_id, activity_id, ticket.version)
            ticket.card_conversation_id, ticket.card_activity_id = conversation_id, activity_id
        elif ticket.card_version < ticket.version:
            await self._connector.update_activity(
                channel.service_url,
                ticket.card_conversation_id,
                ticket.card_activity_id,
                {"type": "message", "id": ticket.card_activity_id, **_attached(content)},
            )
            await self._ledger.card_updated(ticket.id, ticket.version)
        for event in notes:
            await self._post_note(
                channel, ticket.card_conversation_id, ticket.card_activity_id, t, event
            )
            await self._ledger.note_posted(event.id)
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
        await self._ledger.requester_told(event.id, state)
        event.notify_state = state


def _attached(content: dict[str, Any]) -> dict[str, Any]:
    return {"attachments": [{"contentType": ADAPTIVE_CARD, "content": content}]}
