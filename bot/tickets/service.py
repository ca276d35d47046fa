"""What may happen to a ticket, by whom, and what the relay still owes the channel and requester.

Every change is one conditional UPDATE on the version the actor saw, so two helpdesk agents
pressing "take" at once, or one pressing twice, change the ticket once. An agent's reply is such
a change too. A requester's answer carries its answer box's token instead: it is recorded once
however often the box is sent, and is not refused because the helpdesk changed the ticket.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import Employee
from bot.refusal import Refused
from bot.tickets.models import HelpdeskChannel, HelpdeskMember, Ticket, TicketEvent, TicketState

STATES = tuple(state.value for state in TicketState)
TOPICS = ("phone_choice", "deductions", "delivery", "device_problem", "lost_or_stolen", "other")
URGENT_TOPICS = frozenset({"lost_or_stolen"})
MAX_DESCRIPTION = 1000
MAX_MESSAGE = 2000
MAX_CONTEXT = 500  # what the bot was asked and answered, kept with the ticket
MAX_TOKEN = 64
ANSWER_ATTEMPTS = 3  # an answer racing helpdesk changes is tried again on the newer version

CREATED, TAKEN_EVENT, RELEASED, REPLIED, ANSWERED, RESOLVED_EVENT, REOPENED, RERAISED = (
    "created",
    "taken",
    "released",
    "replied",
    "answered",
    "resolved",
    "reopened",
    "reraised",
)
PENDING, DONE, NONE, FAILED = "pending", "done", "none", "failed"
_TELLS_REQUESTER = frozenset({TAKEN_EVENT, RELEASED, REPLIED, RESOLVED_EVENT, REOPENED})
_NOTED_IN_CHANNEL = frozenset(
    {TAKEN_EVENT, RELEASED, REPLIED, ANSWERED, RESOLVED_EVENT, REOPENED, RERAISED}
)
RELAY_BACKOFF_CAP = timedelta(minutes=15)


class TicketError(Refused):
    """Why a change was refused, and the ticket as it is now (None: there is no such ticket)."""

    catalog = "tickets.problem"  # as a helpdesk agent reads it
    requester_catalog = "helpdesk.problem"  # as the employee who asked reads it

    def __init__(self, reason: str, ticket: Ticket | None = None) -> None:
        super().__init__(reason)
        self.ticket = ticket


@dataclass(frozen=True)
class NewTicket:
    request_token: str
    requester_aad: str
    requester_name: str
    language: str
    topic: str
    description: str
    urgent: bool
    asked: str | None = None
    bot_answer: str | None = None


@dataclass(frozen=True)
class Actor:
    aad_object_id: str
    name: str


@dataclass(frozen=True)
class Member:
    aad_object_id: str
    teams_id: str
    name: str


def new_token() -> str:
    """A form's token: a second press of the same form is recognised and adds nothing."""
    return secrets.token_urlsafe(16)


def _answer_key(token: str, message: str) -> str:
    """What makes an answer one: its box and its text (64 hex digits, the column's size)."""
    return hashlib.sha256(f"{token}\n{message}".encode()).hexdigest()


def problems_of(new: NewTicket) -> list[str]:
    """What is wrong with a request before it is saved (reasons for the form to show)."""
    problems = []
    if new.topic not in TOPICS:
        problems.append("unknown_topic")
    if not new.description.strip():
        problems.append("empty_description")
    elif len(new.description) > MAX_DESCRIPTION:
        problems.append("description_too_long")
    if not new.request_token or len(new.request_token) > MAX_TOKEN:
        problems.append("bad_form")
    return problems


async def open_ticket(
    *, session: AsyncSession, new: NewTicket, now: datetime
) -> tuple[Ticket, bool]:
    """The ticket for this form: new, or the one a first press of the same form already made."""
    problems = problems_of(new)
    if problems:
        raise TicketError(problems[0])
    existing = await _by_token(session, new.request_token)
    if existing is not None:
        return _own(existing, new.requester_aad), False
    unit_code = await session.scalar(
        select(Employee.unit_code).where(Employee.aad_object_id == new.requester_aad)
    )
    ticket = Ticket(
        request_token=new.request_token,
        requester_aad=new.requester_aad,
        requester_name=new.requester_name[:200],
        requester_language=new.language,
        unit_code=unit_code,
        topic=new.topic,
        description=new.description.strip(),
        asked=_clip(new.asked),
        bot_answer=_clip(new.bot_answer),
        urgent=new.urgent or new.topic in URGENT_TOPICS,
        state=TicketState.OPEN,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(ticket)
            await session.flush()
    except IntegrityError:
        # The same form pressed twice at once: the other press made the ticket.
        existing = await _by_token(session, new.request_token)
        if existing is None:
            raise
        return _own(existing, new.requester_aad), False
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind=CREATED,
            actor_aad=new.requester_aad,
            actor_name=ticket.requester_name,
            at=now,
            note_state=NONE,
        )
    )
    await session.flush()
    return ticket, True


async def take(
    *, session: AsyncSession, ticket_id: int, version: int, actor: Actor, now: datetime
) -> Ticket:
    ticket = await _current(session, ticket_id, version)
    if ticket.state == TicketState.TAKEN and ticket.assignee_aad == actor.aad_object_id:
        return ticket
    if ticket.state != TicketState.OPEN:
        raise TicketError("not_open", ticket)
    return await _change(
        session,
        ticket,
        TAKEN_EVENT,
        actor,
        now,
        state=TicketState.TAKEN,
        assignee_aad=actor.aad_object_id,
        assignee_name=actor.name,
    )


async def release(
    *, session: AsyncSession, ticket_id: int, version: int, actor: Actor, now: datetime
) -> Ticket:
    ticket = await _current(session, ticket_id, version)
    if ticket.state != TicketState.TAKEN:
        raise TicketError("not_taken", ticket)
    if ticket.assignee_aad != actor.aad_object_id:
        raise TicketError("not_assignee", ticket)
    return await _change(
        session,
        ticket,
        RELEASED,
        actor,
        now,
        state=TicketState.OPEN,
        assignee_aad=None,
        assignee_name=None,
    )


async def resolve(
    *, session: AsyncSession, ticket_id: int, version: int, actor: Actor, now: datetime
) -> Ticket:
    ticket = await _current(session, ticket_id, version)
    if ticket.state == TicketState.RESOLVED:
        raise TicketError("already_resolved", ticket)
    assignee = {} if ticket.assignee_aad else _assignee(actor)
    return await _change(
        session,
        ticket,
        RESOLVED_EVENT,
        actor,
        now,
        state=TicketState.RESOLVED,
        resolved_at=now,
        **assignee,
    )


async def reopen(
    *, session: AsyncSession, ticket_id: int, version: int, actor: Actor, now: datetime
) -> Ticket:
    ticket = await _current(session, ticket_id, version)
    if ticket.state != TicketState.RESOLVED:
        raise TicketError("not_resolved", ticket)
    return await _change(
        session,
        ticket,
        REOPENED,
        actor,
        now,
        state=TicketState.TAKEN,
        resolved_at=None,
        **_assignee(actor),
    )


async def reply(
    *, session: AsyncSession, ticket_id: int, version: int, actor: Actor, text: str, now: datetime
) -> Ticket:
    """An agent's message to the requester from the card at `version`; the same card sent again
    sends nothing. Replying to an unassigned ticket takes it."""
    ticket = await _ticket(session, ticket_id)
    message = _message(text, ticket)
    if ticket.state == TicketState.RESOLVED:
        raise TicketError("already_resolved", ticket)
    try:
        if ticket.version != version:
            raise TicketError("stale", ticket)
        assignee = _assignee(actor) if ticket.state == TicketState.OPEN else {}
        state = TicketState.TAKEN if ticket.state == TicketState.OPEN else ticket.state
        return await _change(
            session, ticket, REPLIED, actor, now, text=message, state=state, **assignee
        )
    except TicketError as error:
        if error.reason == "stale" and await _replied_last(session, ticket_id, actor, message):
            raise TicketError("already_replied", error.ticket) from None
        raise


async def answer(
    *,
    session: AsyncSession,
    ticket_id: int,
    requester_aad: str,
    token: str,
    text: str,
    now: datetime,
) -> tuple[Ticket, bool]:
    """The requester's answer, once per answer box (`token`) and text: the same answer pressed
    twice is one, another text typed in the same box is another. On a resolved ticket it reopens
    it. Returns (ticket, reopened)."""
    message = _message(text)
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.requester_aad != requester_aad:
        raise TicketError("not_yours")
    if not token or len(token) > MAX_TOKEN:
        raise TicketError("no_token", ticket)
    requester = Actor(requester_aad, ticket.requester_name)
    press = _answer_key(token, message)
    for _ in range(ANSWER_ATTEMPTS):
        ticket = await _ticket(session, ticket_id)
        if await _answered_with(session, ticket_id, press):
            raise TicketError("already_answered", ticket)
        reopened = ticket.state == TicketState.RESOLVED
        reopening = {
            "state": TicketState.TAKEN if ticket.assignee_aad else TicketState.OPEN,
            "resolved_at": None,
        }
        try:
            changed = await _change(
                session,
                ticket,
                ANSWERED,
                requester,
                now,
                text=message,
                token=press,
                **(reopening if reopened else {}),
            )
        except TicketError as error:
            if error.reason != "stale":
                raise
            continue
        return changed, reopened
    raise TicketError("stale", ticket)


async def ticket_of(*, session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def list_tickets(
    *,
    session: AsyncSession,
    states: Iterable[str] | None = None,
    requester_aad: str | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    """Newest first; urgent ones first among the unresolved."""
    query = select(Ticket).order_by(Ticket.id.desc())
    if states is not None:
        query = query.where(Ticket.state.in_(list(states)))
    if requester_aad is not None:
        query = query.where(Ticket.requester_aad == requester_aad)
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def history(*, session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    return list(await session.scalars(query))


# The helpdesk channel and its members


async def helpdesk_channel(*, session: AsyncSession) -> HelpdeskChannel | None:
    return await session.get(HelpdeskChannel, 1)


async def set_channel(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    service_url: str,
    tenant_id: str | None,
    language: str,
    set_by: str,
    now: datetime,
) -> HelpdeskChannel:
    """Moves the helpdesk here; cards already posted elsewhere stay there, new ones come here."""
    channel = await session.get(HelpdeskChannel, 1)
    if channel is None:
        channel = HelpdeskChannel(id=1)
        session.add(channel)
    moved_team = channel.team_id != team_id
    channel.team_id, channel.channel_id, channel.service_url = team_id, channel_id, service_url
    channel.tenant_id, channel.language = tenant_id, language
    channel.set_by, channel.set_at = set_by, now
    if moved_team:
        channel.roster_fetched_at = None
        await session.execute(delete(HelpdeskMember))
    # Cards that waited for a channel go out now, not at the end of their back-off.
    await session.execute(
        update(Ticket)
        .where(Ticket.relay_pending.is_(True))
        .values(relay_retry_at=None, relay_attempts=0)
    )
    await session.flush()
    return channel


async def replace_roster(
    *, session: AsyncSession, members: Sequence[Member], now: datetime
) -> None:
    """The team's members as the Bot Connector lists them; anyone no longer there loses access."""
    await session.execute(delete(HelpdeskMember))
    unique = {member.aad_object_id: member for member in members if member.aad_object_id}
    session.add_all(_member_row(member, now) for member in unique.values())
    await session.execute(
        update(HelpdeskChannel).where(HelpdeskChannel.id == 1).values(roster_fetched_at=now)
    )
    await session.flush()


async def add_members(*, session: AsyncSession, members: Sequence[Member], now: datetime) -> None:
    for member in members:
        if member.aad_object_id and await session.get(HelpdeskMember, member.aad_object_id) is None:
            session.add(_member_row(member, now))
    await session.flush()


def _member_row(member: Member, now: datetime) -> HelpdeskMember:
    return HelpdeskMember(
        aad_object_id=member.aad_object_id,
        teams_id=member.teams_id,
        name=member.name[:200],
        added_at=now,
    )


async def remove_members(*, session: AsyncSession, aad_object_ids: Sequence[str]) -> None:
    await session.execute(
        delete(HelpdeskMember).where(HelpdeskMember.aad_object_id.in_(list(aad_object_ids)))
    )


async def is_member(*, session: AsyncSession, aad_object_id: str) -> bool:
    return await session.get(HelpdeskMember, aad_object_id) is not None


async def members(*, session: AsyncSession) -> list[HelpdeskMember]:
    return list(await session.scalars(select(HelpdeskMember).order_by(HelpdeskMember.name)))


# What the relay still owes


@dataclass(frozen=True)
class RelayWork:
    ticket: Ticket
    events: list[TicketEvent]


async def pending_relay(*, session: AsyncSession, now: datetime, limit: int) -> list[int]:
    query = (
        select(Ticket.id)
        .where(
            Ticket.relay_pending.is_(True),
            or_(Ticket.relay_retry_at.is_(None), Ticket.relay_retry_at <= now),
            or_(Ticket.relay_claimed_until.is_(None), Ticket.relay_claimed_until < now),
        )
        .order_by(Ticket.urgent.desc(), Ticket.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def claim_relay(
    *, session: AsyncSession, ticket_id: int, now: datetime, lease: timedelta
) -> RelayWork | None:
    """This process's turn to tell the channel and requester about the ticket, or None if
    another process has it."""
    claimed = await session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.relay_pending.is_(True),
            or_(Ticket.relay_claimed_until.is_(None), Ticket.relay_claimed_until < now),
        )
        .values(relay_claimed_until=now + lease)
    )
    if _rowcount(claimed) != 1:
        return None
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    events = await session.scalars(
        select(TicketEvent)
        .where(
            TicketEvent.ticket_id == ticket_id,
            or_(TicketEvent.note_state == PENDING, TicketEvent.notify_state == PENDING),
        )
        .order_by(TicketEvent.id)
    )
    return RelayWork(ticket, list(events))


async def card_posted(
    *, session: AsyncSession, ticket_id: int, conversation_id: str, activity_id: str, version: int
) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(
            card_conversation_id=conversation_id, card_activity_id=activity_id, card_version=version
        )
    )


async def card_updated(*, session: AsyncSession, ticket_id: int, version: int) -> None:
    await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(card_version=version))


async def event_relayed(
    *, session: AsyncSession, event_id: int, note: str | None = None, notify: str | None = None
) -> None:
    values: dict[str, Any] = {}
    if note is not None:
        values["note_state"] = note
    if notify is not None:
        values["notify_state"] = notify
    if values:
        await session.execute(
            update(TicketEvent).where(TicketEvent.id == event_id).values(**values)
        )


async def relay_finished(*, session: AsyncSession, ticket_id: int, version: int) -> None:
    """Done up to `version`; a change made meanwhile keeps the ticket pending for the next round."""
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(
            relay_pending=or_(
                and_(Ticket.version != version, Ticket.relay_pending),
                select(TicketEvent.id)
                .where(
                    TicketEvent.ticket_id == ticket_id,
                    or_(TicketEvent.note_state == PENDING, TicketEvent.notify_state == PENDING),
                )
                .exists(),
            ),
            relay_claimed_until=None,
            relay_attempts=0,
            relay_retry_at=None,
            relay_error=None,
        )
    )


async def relay_failed(
    *, session: AsyncSession, ticket_id: int, now: datetime, error: str, retry_base: timedelta
) -> datetime:
    """Tries again later, backing off; the ticket stays listed and actionable meanwhile."""
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    attempts = ticket.relay_attempts + 1
    retry_at = now + min(retry_base * 2 ** (attempts - 1), RELAY_BACKOFF_CAP)
    ticket.relay_attempts, ticket.relay_retry_at = attempts, retry_at
    ticket.relay_error, ticket.relay_claimed_until = error[:300], None
    await session.flush()
    return retry_at


async def due_for_reraise(
    *, session: AsyncSession, now: datetime, older_than: timedelta, today: date
) -> list[int]:
    """Unassigned tickets waiting longer than `older_than`, not yet raised again today."""
    query = (
        select(Ticket.id)
        .where(
            Ticket.state == TicketState.OPEN,
            Ticket.updated_at <= now - older_than,
            or_(Ticket.reraised_on.is_(None), Ticket.reraised_on < today),
            Ticket.card_activity_id.is_not(None),
        )
        .order_by(Ticket.id)
    )
    return list(await session.scalars(query))


async def reraise(*, session: AsyncSession, ticket_id: int, today: date, now: datetime) -> bool:
    changed = await session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.state == TicketState.OPEN,
            or_(Ticket.reraised_on.is_(None), Ticket.reraised_on < today),
        )
        .values(reraised_on=today, relay_pending=True)
    )
    if _rowcount(changed) != 1:
        return False
    session.add(TicketEvent(ticket_id=ticket_id, kind=RERAISED, at=now, note_state=PENDING))
    await session.flush()
    return True


def _assignee(actor: Actor) -> dict[str, Any]:
    return {"assignee_aad": actor.aad_object_id, "assignee_name": actor.name[:200]}


async def _ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise TicketError("not_found")
    return ticket


async def _current(session: AsyncSession, ticket_id: int, version: int) -> Ticket:
    """The ticket, if the card pressed still shows its current version."""
    ticket = await _ticket(session, ticket_id)
    if ticket.version != version:
        raise TicketError("stale", ticket)
    return ticket


async def _change(
    session: AsyncSession,
    ticket: Ticket,
    kind: str,
    actor: Actor,
    now: datetime,
    *,
    text: str | None = None,
    token: str | None = None,
    **values: Any,
) -> Ticket:
    seen = ticket.version
    changed = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.version == seen)
        .values(version=seen + 1, updated_at=now, relay_pending=True, **values)
    )
    if _rowcount(changed) != 1:
        raise TicketError("stale", await _ticket(session, ticket.id))
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind=kind,
            actor_aad=actor.aad_object_id,
            actor_name=actor.name[:200],
            text=text,
            token=token,
            at=now,
            note_state=PENDING if kind in _NOTED_IN_CHANNEL else NONE,
            notify_state=PENDING if kind in _TELLS_REQUESTER else NONE,
        )
    )
    await session.flush()
    return await _ticket(session, ticket.id)


async def _replied_last(session: AsyncSession, ticket_id: int, actor: Actor, message: str) -> bool:
    """Whether the ticket's newest reply is this one, by this agent: the same card sent again."""
    last = await session.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == REPLIED)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    return last is not None and last.actor_aad == actor.aad_object_id and last.text == message


async def _answered_with(session: AsyncSession, ticket_id: int, token: str) -> bool:
    found = await session.scalar(
        select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id, TicketEvent.token == token)
    )
    return found is not None


async def _by_token(session: AsyncSession, token: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.request_token == token))


def _own(ticket: Ticket, requester_aad: str) -> Ticket:
    if ticket.requester_aad != requester_aad:
        raise TicketError("not_yours")
    return ticket


def _message(text: str, ticket: Ticket | None = None) -> str:
    message = (text or "").strip()
    if not message:
        raise TicketError("empty_message", ticket)
    if len(message) > MAX_MESSAGE:
        raise TicketError("message_too_long", ticket)
    return message


def _clip(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    text = text.strip()
    return text if len(text) <= MAX_CONTEXT else text[: MAX_CONTEXT - 1] + "…"


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
