"""The tickets' desk and relay ledger on SQLite and PostgreSQL: what the helpdesk area's cards and
relay are made from, without Teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.engine import create_session_factory
from bot.tickets import service as tickets
from bot.tickets.desk import TicketAction, TicketDesk
from bot.tickets.ledger import RelayLedger

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
AGENT = tickets.Actor("agent-aad", "Aino Agentti")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _request(token: str = "form-1", requester: str = "maija-aad") -> tickets.NewTicket:
    return tickets.NewTicket(
        request_token=token,
        requester_aad=requester,
        requester_name="Maija",
        language="fi",
        topic="delivery",
        description="Missä puhelimeni on?",
        urgent=False,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(engine, clock) -> TicketDesk:
    return TicketDesk(create_session_factory(engine), clock)


@pytest.fixture
def ledger(engine, clock) -> RelayLedger:
    return RelayLedger(create_session_factory(engine), clock)


async def _version(desk: TicketDesk, ticket_id: int) -> int:
    """The version an agent's card shows now."""
    shown = await desk.act(TicketAction.REFRESH, ticket_id, None, AGENT, "", "fi")
    assert shown.line is not None
    return shown.line.version


async def _take(desk: TicketDesk, ticket_id: int) -> None:
    taken = await desk.act(
        TicketAction.TAKE, ticket_id, await _version(desk, ticket_id), AGENT, "", "fi"
    )
    assert taken.changed


async def _set_channel(desk: TicketDesk) -> None:
    await desk.set_channel(
        team_id="helpdesk-team",
        channel_id="19:helpdesk",
        service_url="https://smba.example/",
        tenant_id=None,
        language="fi",
        set_by="admin-aad",
    )


async def test_the_same_form_opens_one_ticket(desk):
    first = await desk.open(_request())
    again = await desk.open(_request())
    assert first.created and not again.created
    assert again.ticket_id == first.ticket_id
    assert [line.id for line in await desk.own_tickets("maija-aad", "fi", limit=10)] == [
        first.ticket_id
    ]
    assert await desk.own_tickets("someone-else", "fi", limit=10) == []


async def test_another_employees_form_is_refused(desk):
    await desk.open(_request())
    with pytest.raises(tickets.TicketError) as refused:
        await desk.open(_request(requester="someone-else"))
    assert refused.value.reason == "not_yours"


async def test_an_action_on_the_version_seen_changes_the_ticket_once(desk):
    opened = await desk.open(_request())
    seen = await _version(desk, opened.ticket_id)
    taken = await desk.act(TicketAction.TAKE, opened.ticket_id, seen, AGENT, "", "fi")
    assert taken.changed and taken.refused is None and taken.at == NOW
    assert taken.line is not None and taken.line.assignee_aad == AGENT.aad_object_id

    again = await desk.act(TicketAction.TAKE, opened.ticket_id, seen, AGENT, "", "fi")
    assert not again.changed and again.refused == "stale"
    assert again.line == taken.line


async def test_a_refresh_changes_nothing_and_needs_no_version(desk):
    opened = await desk.open(_request())
    refreshed = await desk.act(TicketAction.REFRESH, opened.ticket_id, None, AGENT, "", "fi")
    assert refreshed.line is not None and refreshed.line.state == "open"
    assert not refreshed.changed and refreshed.refused is None


async def test_a_change_without_a_version_or_ticket_finds_nothing(desk):
    opened = await desk.open(_request())
    no_version = await desk.act(TicketAction.RESOLVE, opened.ticket_id, None, AGENT, "", "fi")
    assert no_version.line is None and no_version.refused == "not_found"
    gone = await desk.act(TicketAction.TAKE, 999_999, 0, AGENT, "", "fi")
    assert gone.line is None and not gone.changed


async def test_members_of_another_team_do_not_join_the_roster(desk):
    await _set_channel(desk)
    channel = await desk.channel()
    assert channel is not None and desk.roster_age(channel) is None
    member = tickets.Member("agent-aad", "29:agent", "Aino Agentti")

    await desk.members_changed("another-team", [member], [])
    assert not await desk.is_agent("agent-aad")

    await desk.members_changed("helpdesk-team", [member], [])
    assert await desk.is_agent("agent-aad")
    await desk.members_changed("helpdesk-team", [], ["agent-aad"])
    assert not await desk.is_agent("agent-aad")


async def test_the_roster_read_now_is_no_age(desk, clock):
    await _set_channel(desk)
    await desk.replace_roster([tickets.Member("agent-aad", "29:agent", "Aino Agentti")])
    clock.now = NOW + timedelta(minutes=5)
    channel = await desk.channel()
    assert channel is not None and desk.roster_age(channel) == timedelta(minutes=5)


async def test_one_ledger_claims_a_ticket_and_a_failure_backs_off(desk, ledger, clock):
    opened = await desk.open(_request())
    await _take(desk, opened.ticket_id)
    assert await ledger.pending(limit=20) == [opened.ticket_id]

    claimed = await ledger.claim(opened.ticket_id, lease=timedelta(seconds=60))
    assert claimed is not None and claimed.channel is None
    assert [event.kind for event in claimed.work.events] == [tickets.TAKEN_EVENT]
    assert await ledger.claim(opened.ticket_id, lease=timedelta(seconds=60)) is None

    retry_at = await ledger.failed(opened.ticket_id, "no channel", timedelta(seconds=30))
    assert retry_at == NOW + timedelta(seconds=30)
    assert await ledger.pending(limit=20) == []
    clock.now = retry_at
    assert await ledger.pending(limit=20) == [opened.ticket_id]


async def test_a_relayed_ticket_is_owed_nothing_more(desk, ledger):
    opened = await desk.open(_request())
    await _take(desk, opened.ticket_id)
    claimed = await ledger.claim(opened.ticket_id, lease=timedelta(seconds=60))
    assert claimed is not None
    ticket = claimed.work.ticket
    await ledger.card_posted(ticket.id, "19:thread", "activity-1", ticket.version)
    for event in claimed.work.events:
        await ledger.note_posted(event.id)
        await ledger.requester_told(event.id, tickets.DONE)
    await ledger.finished(ticket.id, ticket.version)
    assert await ledger.pending(limit=20) == []

    view = await ledger.card_view(ticket, "fi")
    assert view.line.id == ticket.id and view.line.assignee_name == AGENT.name


async def test_unassigned_tickets_are_raised_again_once_a_day(desk, ledger, clock):
    opened = await desk.open(_request())
    claimed = await ledger.claim(opened.ticket_id, lease=timedelta(seconds=60))
    assert claimed is not None
    version = claimed.work.ticket.version
    await ledger.card_posted(opened.ticket_id, "19:thread", "activity-1", version)
    await ledger.finished(opened.ticket_id, version)

    clock.now = NOW + timedelta(hours=1)
    assert await ledger.reraise_overdue(older_than=timedelta(hours=4)) == 0
    clock.now = NOW + timedelta(hours=5)
    assert await ledger.reraise_overdue(older_than=timedelta(hours=4)) == 1
    assert await ledger.reraise_overdue(older_than=timedelta(hours=4)) == 0
