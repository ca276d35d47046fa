"""What employees and helpdesk agents do with tickets, one short transaction per action.

Agents are checked on every action, not when a card is shown: the action must come from the
helpdesk channel's team, and the person must be in that team's roster. The roster comes from the
Bot Connector and follows Teams' join and leave events; because an event can be missed, it is read
again when a member acts on a roster older than ROSTER_MAX_AGE, and when someone unknown acts on
one older than ROSTER_REFRESH. One read serves every press waiting for it. If the read fails, the
press is refused with "try again shortly" (fail closed: nobody acts on an unchecked roster), and
presses in the next ROSTER_RETRY get that answer without another read. A card payload copied into
another chat, or pressed by someone outside the team, is refused and logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
from bot.dialogs.actions import Verb
from bot.dialogs.helpdesk.cards import (
    DESCRIPTION_INPUT,
    REPLY_INPUT,
    TOPIC_INPUT,
    URGENT_INPUT,
    Draft,
    answer_added_card,
    answer_again_card,
    answer_input,
    channel_texts,
    my_tickets_card,
    request_form_card,
    request_sent_card,
    ticket_card,
)
from bot.dialogs.helpdesk.relay import TicketRelay
from bot.dialogs.turn import ChannelPlace
from bot.i18n import Texts
from bot.numbers import payload_int
from bot.tickets import service as tickets
from bot.tickets.desk import TicketAction, TicketDesk
from bot.tickets.models import HelpdeskChannel, TicketState

log = logging.getLogger(__name__)

Card = dict[str, Any]
ROSTER_MAX_AGE = timedelta(minutes=10)  # a removed member whose leaving was missed, at most
ROSTER_REFRESH = timedelta(minutes=1)  # how often someone unknown may cause a read
ROSTER_RETRY = timedelta(seconds=30)  # after a failed read, presses wait this long for another
MY_TICKETS = 10  # the newest of the employee's own tickets on their card


class Access(Enum):
    AGENT = "agent"
    REFUSED = "refused"
    UNCHECKED = "unchecked"  # the roster was due a read and the Bot Connector did not answer


@dataclass(frozen=True)
class AgentAnswer:
    """The card that replaces the pressed one, or why nothing happened (status, message)."""

    card: Card | None = None
    status: int = 200
    message: str = ""


class Helpdesk:
    def __init__(
        self,
        desk: TicketDesk,
        connector: BotConnectorClient,
        relay: TicketRelay,
        *,
        admins: frozenset[str],
        default_language: str,
    ) -> None:
        self._desk = desk
        self._connector = connector
        self.relay = relay
        self._admins = admins
        self._default_language = default_language
        self._roster_lock = asyncio.Lock()
        self._roster_failed_at: datetime | None = None

    # The employee's side

    def request_form(self, t: Texts, value: dict[str, Any] | None = None) -> Card:
        """A fresh form, pre-filled with what the employee asked and what the bot answered."""
        value = value or {}
        asked, answered = _text(value.get("asked")), _text(value.get("answered"))
        return request_form_card(
            t,
            Draft(
                token=tickets.new_token(),
                asked=asked,
                bot_answer=answered,
                description=asked or "",
            ),
        )

    async def send_request(self, t: Texts, requester: tickets.Actor, value: dict[str, Any]) -> Card:
        """The form submitted: its ticket (once, however often it is pressed) or its problems."""
        new = tickets.NewTicket(
            request_token=_text(value.get("form")) or "",
            requester_aad=requester.aad_object_id,
            requester_name=requester.name,
            language=t.language,
            topic=_text(value.get(TOPIC_INPUT)) or "",
            description=_text(value.get(DESCRIPTION_INPUT)) or "",
            urgent=value.get(URGENT_INPUT) == "true",
            asked=_text(value.get("asked")),
            bot_answer=_text(value.get("answered")),
        )
        problems = tickets.problems_of(new)
        if problems:
            token = tickets.new_token() if "bad_form" in problems else new.request_token
            draft = Draft(
                token=token,
                asked=new.asked,
                bot_answer=new.bot_answer,
                topic=new.topic,
                description=new.description[: tickets.MAX_DESCRIPTION],
                urgent=new.urgent,
            )
            return request_form_card(t, draft, problems)
        try:
            opened = await self._desk.open(new)
        except tickets.TicketError as error:
            log.warning("refused a request form of another employee (%s)", error.reason)
            return request_form_card(t, Draft(token=tickets.new_token()), [error.reason])
        if opened.created:
            log.info(
                "ticket %s opened (topic %s, urgent %s)",
                opened.ticket_id,
                opened.topic,
                opened.urgent,
            )
            self.relay.kick()
        return request_sent_card(
            t, opened.ticket_id, urgent=opened.urgent, again=not opened.created
        )

    async def my_tickets(self, t: Texts, requester_aad: str) -> Card:
        """Only the sender's own tickets, whatever the card that asked."""
        lines = await self._desk.own_tickets(requester_aad, t.language, limit=MY_TICKETS)
        forms = {
            line.id: tickets.new_token() for line in lines if line.state != TicketState.RESOLVED
        }
        return my_tickets_card(t, lines, self._desk.now(), forms)

    async def answer(self, t: Texts, requester_aad: str, value: dict[str, Any]) -> Card | str:
        """The requester's answer to their ticket, once per answer box: a confirmation card, the
        answer back in a new box if its box had no token, or a text saying why not."""
        ticket_id = payload_int(value.get("ticket"))
        if ticket_id is None:
            return t("helpdesk.not_yours")
        text = _text(value.get(answer_input(ticket_id))) or ""
        if not text:
            return t("helpdesk.answer_empty")
        try:
            answered = await self._desk.answer(
                ticket_id, requester_aad, token=_text(value.get("form")) or "", text=text
            )
        except tickets.TicketError as error:
            if error.reason == "no_token":
                return answer_again_card(t, ticket_id, form=tickets.new_token(), typed=text)
            if error.reason == "already_answered":
                return answer_added_card(t, ticket_id, reopened=False, again=True)
            if error.reason == "not_yours":
                log.warning("refused an answer to ticket %s by someone else", ticket_id)
            return t(f"helpdesk.problem.{error.reason}")
        self.relay.kick()
        return answer_added_card(t, answered.ticket_id, reopened=answered.reopened)

    # The helpdesk channel's side

    def is_admin(self, aad_object_id: str | None) -> bool:
        return aad_object_id is not None and aad_object_id in self._admins

    async def set_channel(self, t: Texts, sender: tickets.Actor, place: ChannelPlace) -> str:
        """An ICT admin makes this channel the helpdesk's; its team's members become agents."""
        if not self.is_admin(sender.aad_object_id):
            log.warning("refused setting the helpdesk channel by someone who is not an ICT admin")
            return t("tickets.channel_only_admins")
        if place.team_id is None or place.channel_id is None:
            return t("tickets.channel_needs_team")
        await self._desk.set_channel(
            team_id=place.team_id,
            channel_id=place.channel_id,
            service_url=place.service_url,
            tenant_id=place.tenant_id,
            language=t.language,
            set_by=sender.aad_object_id,
        )
        count = await self._fetch_roster(place.service_url, place.team_id) or 0
        log.info("helpdesk channel set by an ICT admin (%d members)", count)
        self.relay.kick()
        return t("tickets.channel_set", count=count)

    async def channel_hint(self, team_id: str | None) -> str | None:
        """What the bot says to other posts in the helpdesk's team; None in any other team."""
        channel = await self._desk.channel()
        if channel is None or team_id is None or channel.team_id != team_id:
            return None
        return channel_texts(channel, self._default_language)("tickets.channel_hint")

    async def act(
        self, verb: Verb, data: dict[str, Any], actor: tickets.Actor, place: ChannelPlace
    ) -> AgentAnswer:
        """A ticket card's button, pressed in the helpdesk channel by one of its team."""
        channel = await self._desk.channel()
        t = channel_texts(channel, self._default_language)
        access = await self._access(actor, place, channel)
        if access is Access.UNCHECKED:
            return AgentAnswer(status=503, message=t("tickets.roster_unavailable"))
        if access is Access.REFUSED:
            return AgentAnswer(status=403, message=t("tickets.only_helpdesk"))
        action = _ACTIONS[verb]
        ticket_id, version = payload_int(data.get("ticket")), payload_int(data.get("version"))
        if ticket_id is None or (action is not TicketAction.REFRESH and version is None):
            return AgentAnswer(status=400, message=t("tickets.not_found"))
        reply = _text(data.get(REPLY_INPUT)) or ""
        acted = await self._desk.act(action, ticket_id, version, actor, reply, t.language)
        if acted.line is None:
            return AgentAnswer(status=404, message=t("tickets.not_found"))
        notice, draft = None, ""
        if acted.refused is not None:
            notice = t(f"tickets.problem.{acted.refused}")
            kept = action is TicketAction.REPLY and acted.refused != "already_replied"
            draft = reply if kept else ""
            log.info("ticket %s: %s refused (%s)", ticket_id, verb.value, acted.refused)
        if acted.changed:
            log.info("ticket %s: %s", ticket_id, verb.value)
            self.relay.kick()
        card = ticket_card(
            t,
            acted.line,
            viewer=actor.aad_object_id,
            refresh_ids=acted.teams_ids,
            now=acted.at,
            notice=notice,
            reply_draft=draft,
        )
        return AgentAnswer(card=card)

    async def members_changed(
        self, place: ChannelPlace, added: list[tickets.Member], removed: list[str]
    ) -> None:
        """Teams tells the bot when its team gains or loses members: the roster follows."""
        if place.team_id is not None:
            await self._desk.members_changed(place.team_id, added, removed)

    async def _access(
        self, actor: tickets.Actor, place: ChannelPlace, channel: HelpdeskChannel | None
    ) -> Access:
        if channel is None or place.team_id is None or channel.team_id != place.team_id:
            log.warning("refused a ticket action from outside the helpdesk team")
            return Access.REFUSED
        known = await self._desk.is_agent(actor.aad_object_id)
        age = self._desk.roster_age(channel)
        if known and age is not None and age < ROSTER_MAX_AGE:
            return Access.AGENT
        if known or age is None or age >= ROSTER_REFRESH:
            if not await self._reread_roster(channel):
                log.warning("could not check the helpdesk team's roster; refused for now")
                return Access.UNCHECKED
            if await self._desk.is_agent(actor.aad_object_id):
                return Access.AGENT
        log.warning("refused a ticket action by someone not in the helpdesk team")
        return Access.REFUSED

    async def _reread_roster(self, seen: HelpdeskChannel) -> bool:
        """Reads the roster once for every press waiting on it; False if it could not be read."""
        async with self._roster_lock:
            channel = await self._desk.channel()
            if channel is None or channel.team_id != seen.team_id:
                return False
            if channel.roster_fetched_at != seen.roster_fetched_at:
                return True  # read meanwhile, by a press that waited here or another process
            now = self._desk.now()
            if self._roster_failed_at is not None and now - self._roster_failed_at < ROSTER_RETRY:
                return False
            if await self._fetch_roster(channel.service_url, channel.team_id) is None:
                self._roster_failed_at = now
                return False
            self._roster_failed_at = None
            return True

    async def _fetch_roster(self, service_url: str, team_id: str) -> int | None:
        """The team's members replace the roster; None (and no change) if they cannot be read."""
        try:
            found = await self._connector.team_members(service_url, team_id)
        except ConnectorError as error:
            log.error("could not list the helpdesk team's members: %s", error)
            return None
        roster = [
            tickets.Member(
                aad_object_id=str(member.get("aadObjectId") or ""),
                teams_id=str(member.get("id") or ""),
                name=str(member.get("name") or ""),
            )
            for member in found
            if member.get("aadObjectId") and member.get("id")
        ]
        await self._desk.replace_roster(roster)
        return len(roster)


_ACTIONS = {
    Verb.TICKET_TAKE: TicketAction.TAKE,
    Verb.TICKET_RELEASE: TicketAction.RELEASE,
    Verb.TICKET_REPLY: TicketAction.REPLY,
    Verb.TICKET_RESOLVE: TicketAction.RESOLVE,
    Verb.TICKET_REOPEN: TicketAction.REOPEN,
    Verb.TICKET_REFRESH: TicketAction.REFRESH,
}
AGENT_VERBS = frozenset(_ACTIONS)  # the ticket card's buttons, pressed by helpdesk agents


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
