"""Helpdesk escalation as transcripts: the employee's chat, the helpdesk channel, both ways.

Everything goes through the real aiohttp app; the fake Bot Connector records what reached the
channel (cards, in-place updates, thread notes) and the requester's chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.tickets.models import Ticket, TicketEvent
from tests.support import activities
from tests.support.activities import TeamsUser, team_member
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons, cards, executes

TEAM = "19:helpdesk-team@thread.tacv2"
CHANNEL = "19:tukipalvelu@thread.tacv2"
ADMIN = TeamsUser.new("Iida Ylläpitäjä")
AGENT = TeamsUser.new("Aki Tukinen")
SECOND_AGENT = TeamsUser.new("Outi Tukela")
OUTSIDER = TeamsUser.new("Ulla Ulkopuolinen")


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # a Thursday, 9.00 in Helsinki

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@asynccontextmanager
async def helpdesk_bot(engine, clock, **settings: Any) -> AsyncIterator[BotUnderTest]:
    """The bot with ADMIN as ICT admin and a helpdesk team of ADMIN, AGENT and SECOND_AGENT."""
    configured = Settings(
        app_id="",
        ict_admin_ids=ADMIN.aad_object_id,
        notify_working_hours="08:00-16:00",
        notify_working_days="mon-fri",
        notify_public_holidays=False,
        **settings,
    )
    async with running_bot(engine, configured, clock) as running:
        running.connector.team_members[TEAM] = [
            team_member(person) for person in (ADMIN, AGENT, SECOND_AGENT)
        ]
        yield running


@pytest.fixture
async def bot(engine, clock) -> AsyncIterator[BotUnderTest]:
    async with helpdesk_bot(engine, clock) as running:
        yield running


@pytest.fixture
def employee() -> TeamsUser:
    return TeamsUser.new("Maija Meikäläinen")


async def relayed(bot: BotUnderTest) -> None:
    await bot.components.jobs.relay.idle()


async def set_channel(bot: BotUnderTest, user: TeamsUser = ADMIN) -> list[dict[str, Any]]:
    return await bot.turn(
        activities.channel_message(
            user, bot.service_url, "<at>Puhelinbotti</at> tukikanava", TEAM, CHANNEL
        )
    )


async def escalate(
    bot: BotUnderTest,
    user: TeamsUser,
    description: str = "Puhelimen näyttö meni rikki.",
    *,
    topic: str = "device_problem",
    urgent: bool = False,
    form: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    form = form or await bot.say(user, "haluan puhua ihmiselle")
    value = {
        **buttons(form)["Lähetä tukipyyntö"],
        "ticket_topic": topic,
        "ticket_description": description,
        "ticket_urgent": "true" if urgent else "false",
    }
    replies = await bot.press(user, value)
    await relayed(bot)
    return replies


def channel_posts(bot: BotUnderTest) -> list[dict[str, Any]]:
    return bot.connector.delivered_to(CHANNEL)


def thread_of(bot: BotUnderTest, ticket_card_index: int = 0) -> str:
    post = [d for d in bot.connector.deliveries if d.conversation_id == CHANNEL][ticket_card_index]
    return f"{CHANNEL};messageid={post.activity_id}"


def thread_notes(bot: BotUnderTest, ticket_card_index: int = 0) -> list[str]:
    return [body["text"] for body in bot.connector.delivered_to(thread_of(bot, ticket_card_index))]


async def press_on_ticket(
    bot: BotUnderTest, user: TeamsUser, button: str, card: dict[str, Any], **typed: str
) -> tuple[int, Any]:
    verb, data = executes([_as_reply(card)])[button]
    activity = activities.channel_card_action(
        user,
        bot.service_url,
        verb,
        {**data, **typed},
        team_id=TEAM,
        channel_id=CHANNEL,
        thread_id=thread_of(bot),
    )
    response = await bot.post(activity)
    body = await response.json()
    await relayed(bot)
    return response.status, body


def _as_reply(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
    }


def posted_card(bot: BotUnderTest) -> dict[str, Any]:
    return cards(channel_posts(bot))[-1]


def latest_card(bot: BotUnderTest) -> dict[str, Any]:
    """The channel's card as everyone sees it now: the post, or its newest update."""
    updates = [update.body for update in bot.connector.updates]
    return cards(updates)[-1] if updates else posted_card(bot)


async def tickets_in(bot: BotUnderTest) -> list[Ticket]:
    async with bot.components.sessions() as session:
        return list(await session.scalars(select(Ticket).order_by(Ticket.id)))


async def events_of(bot: BotUnderTest, ticket_id: int) -> list[str]:
    async with bot.components.sessions() as session:
        query = select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
        return list(await session.scalars(query.order_by(TicketEvent.id)))


def card_text(body: dict[str, Any]) -> str:
    return all_text([_as_reply(body["value"])])


def roster_reads(bot: BotUnderTest) -> int:
    return sum(call.path.endswith("/pagedmembers") for call in bot.connector.calls)


async def refresh_card(bot: BotUnderTest, user: TeamsUser) -> Any:
    """Teams asking for the current card as `user` looks at it (the card's `refresh`)."""
    refresh = posted_card(bot)["refresh"]["action"]
    activity = activities.channel_card_action(
        user,
        bot.service_url,
        refresh["verb"],
        refresh["data"],
        team_id=TEAM,
        channel_id=CHANNEL,
        thread_id=thread_of(bot),
    )
    activity["value"]["trigger"] = "automatic"
    response = await bot.post(activity)
    assert response.status == 200
    return await response.json()


# The employee's side


async def test_escalating_an_unanswered_question_prefills_it_and_confirms_with_a_number(
    bot, employee
):
    await bot.say(employee, "hei")
    unknown = await bot.say(employee, "mikä on lounaslista tänään?")
    form = await bot.press(employee, buttons(unknown)["Ota yhteyttä tukeen"])
    text = all_text(form)
    assert "Kysyit minulta: mikä on lounaslista tänään?" in text
    assert "Vastasin: En osaa vastata" in text
    description = next(
        node for node in cards(form)[0]["body"] if node.get("id") == "ticket_description"
    )
    assert description["value"] == "mikä on lounaslista tänään?"

    sent = await escalate(bot, employee, "Missä näen lounaslistan?", form=form, topic="other")
    assert "Tukipyyntösi #1 on vastaanotettu." in all_text(sent)
    assert "Omat tukipyynnöt" in buttons(sent)
    [ticket] = await tickets_in(bot)
    assert (ticket.state, ticket.topic, ticket.requester_name) == (
        "open",
        "other",
        "Maija Meikäläinen",
    )
    assert ticket.asked == "mikä on lounaslista tänään?"
    assert ticket.bot_answer.startswith("En osaa vastata")


async def test_the_same_form_sent_twice_makes_one_ticket(bot, employee):
    form = await bot.say(employee, "haluan puhua ihmiselle")
    await escalate(bot, employee, form=form)
    again = await escalate(bot, employee, form=form)
    assert "oli jo vastaanotettu, joten sitä ei lähetetty uudelleen" in all_text(again)
    assert len(await tickets_in(bot)) == 1


async def test_a_form_with_problems_comes_back_with_what_was_typed(bot, employee):
    form = await bot.say(employee, "tuki")
    value = {
        **buttons(form)["Lähetä tukipyyntö"],
        "ticket_topic": "bogus",
        "ticket_description": "   ",
    }
    replies = await bot.press(employee, value)
    assert "Valitse aihe." in all_text(replies)
    too_long = {**value, "ticket_topic": "deductions", "ticket_description": "x" * 1001}
    replies = await bot.press(employee, too_long)
    assert "Kuvaus on liian pitkä" in all_text(replies)
    [card] = cards(replies)
    kept = {node["id"]: node.get("value") for node in card["body"] if "id" in node}
    assert kept["ticket_topic"] == "deductions"
    assert await tickets_in(bot) == []


async def test_another_employee_replaying_a_sent_form_gets_nothing_of_it(bot, employee, caplog):
    form = await bot.say(employee, "tuki")
    await escalate(bot, employee, "Oma asiani", form=form)
    intruder = TeamsUser.new("Ville Vieras")
    caplog.set_level(logging.WARNING)
    replies = await escalate(bot, intruder, "Kaapattu", form=form)
    assert "Oma asiani" not in all_text(replies)
    assert "#1" not in all_text(replies)
    assert "refused a request form of another employee" in caplog.text
    [ticket] = await tickets_in(bot)
    assert ticket.description == "Oma asiani"


async def test_a_lost_phone_is_urgent_with_advice_at_once(bot, employee):
    sent = await escalate(bot, employee, "Puhelin jäi bussiin.", topic="lost_or_stolen")
    assert "lukita" in all_text(sent)
    [ticket] = await tickets_in(bot)
    assert ticket.urgent


async def test_my_tickets_lists_only_my_own(bot, employee):
    await escalate(bot, employee, "Ensimmäinen asia")
    await escalate(bot, TeamsUser.new("Toinen Työntekijä"), "Toisen asia")
    replies = await bot.say(employee, "omat tukipyynnöt")
    text = all_text(replies)
    assert "#1 · Puhelimen vika tai käyttö · Avoin" in text
    assert "Ensimmäinen asia" in text
    assert "Toisen asia" not in text and "#2" not in text


# The helpdesk channel


async def test_only_an_ict_admin_sets_the_helpdesk_channel(bot, caplog):
    caplog.set_level(logging.WARNING)
    refused = await set_channel(bot, AGENT)
    assert "Vain ICT:n ylläpitäjät" in all_text(refused)
    assert "refused setting the helpdesk channel" in caplog.text
    group = activities.channel_message(ADMIN, bot.service_url, "<at>Puhelinbotti</at> tukikanava")
    group["conversation"]["conversationType"] = "groupChat"
    group["channelData"] = {"tenant": {"id": activities.TENANT_ID}}
    assert "vain tiimin kanavan" in all_text(await bot.turn(group))
    accepted = await set_channel(bot)
    assert "Tämä kanava on nyt Puhelinbotin tukikanava" in all_text(accepted)
    assert "Tiimissä on 3 jäsentä" in all_text(accepted), "the team's three members became agents"


async def test_a_ticket_waits_for_the_channel_and_is_posted_once_it_is_set(bot, employee):
    await escalate(bot, employee)
    assert channel_posts(bot) == []
    [ticket] = await tickets_in(bot)
    assert ticket.relay_pending and ticket.relay_error == "no helpdesk channel is set"

    await set_channel(bot)
    await relayed(bot)
    text = all_text(channel_posts(bot))
    assert "Tukipyyntö #1" in text
    assert "Pyytäjä: Maija Meikäläinen" in text
    assert "Puhelimen näyttö meni rikki." in text
    assert set(executes(channel_posts(bot))) == {"Ota työn alle", "Lähetä vastaus", "Ratkaistu"}
    assert posted_card(bot)["refresh"]["userIds"] == [
        member.teams_id for member in sorted((ADMIN, AGENT, SECOND_AGENT), key=lambda m: m.name)
    ]


async def test_take_reply_both_ways_resolve_and_reopen(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    before = len(bot.connector.delivered_to(employee.conversation_id))

    status, body = await press_on_ticket(bot, AGENT, "Ota työn alle", card)
    assert (status, body["statusCode"]) == (200, 200)
    assert "Työn alla: Aki Tukinen" in card_text(body)
    assert set(executes([_as_reply(body["value"])])) == {"Vapauta", "Lähetä vastaus", "Ratkaistu"}
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert "Aki Tukinen tukipalvelusta hoitaa nyt tukipyyntöäsi #1." in all_text(told)
    assert "Työn alla: Aki Tukinen" in all_text([_as_reply(latest_card(bot))]), "updated in place"
    assert thread_notes(bot) == ["**Aki Tukinen** otti työn alle."]

    status, body = await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", body["value"], ticket_reply="Viethän puhelimen huoltoon?"
    )
    assert status == 200
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert "Aki Tukinen vastasi tukipyyntöösi #1:" in all_text(told)
    assert "Viethän puhelimen huoltoon?" in all_text(told)
    answer = buttons(told)["Lähetä vastaus"]

    confirmed = await bot.press(employee, {**answer, "ticket_answer.1": "Vien huomenna."})
    await relayed(bot)
    assert "Vastauksesi lisättiin tukipyyntöön #1." in all_text(confirmed)
    assert thread_notes(bot)[-1] == "**Pyytäjä (Maija Meikäläinen)** vastasi:\n\nVien huomenna."
    assert "Maija Meikäläinen: Vien huomenna." in all_text([_as_reply(latest_card(bot))])

    status, body = await press_on_ticket(bot, AGENT, "Ratkaistu", latest_card(bot))
    assert "Ratkaistu" in card_text(body)
    assert set(executes([_as_reply(body["value"])])) == {"Avaa uudelleen"}
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert "on merkitty ratkaistuksi" in all_text(told)

    status, body = await press_on_ticket(bot, SECOND_AGENT, "Avaa uudelleen", body["value"])
    assert "Työn alla: Outi Tukela" in card_text(body)
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert "avattiin uudelleen, ja Outi Tukela hoitaa sitä" in all_text(told)
    assert await events_of(bot, 1) == [
        "created",
        "taken",
        "replied",
        "answered",
        "resolved",
        "reopened",
    ]
    assert thread_notes(bot)[-2:] == [
        "**Aki Tukinen** merkitsi ratkaistuksi.",
        "**Outi Tukela** avasi uudelleen.",
    ]


async def test_an_answer_to_a_resolved_ticket_reopens_it(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    await press_on_ticket(bot, AGENT, "Ratkaistu", posted_card(bot))
    told = bot.connector.delivered_to(employee.conversation_id)
    answer = buttons(told)["Lähetä vastaus"]
    confirmed = await bot.press(employee, {**answer, "ticket_answer.1": "Ei se ratkennut."})
    await relayed(bot)
    assert "tukipyyntö #1 avattiin uudelleen" in all_text(confirmed)
    [ticket] = await tickets_in(bot)
    assert ticket.state == "taken" and ticket.assignee_name == "Aki Tukinen"


async def test_a_double_press_or_a_stale_card_changes_nothing_twice(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    _, taken = await press_on_ticket(bot, AGENT, "Ota työn alle", card)
    status, body = await press_on_ticket(bot, SECOND_AGENT, "Ota työn alle", card)
    assert status == 200
    assert "Tukipyyntö oli ehtinyt muuttua" in card_text(body)
    assert "Työn alla: Aki Tukinen" in card_text(body)
    assert await events_of(bot, 1) == ["created", "taken"]
    assert "Vapauta" not in executes([_as_reply(latest_card(bot))]), "only the assignee sees it"
    status, body = await press_on_ticket(bot, SECOND_AGENT, "Vapauta", taken["value"])
    assert "Vain tukipyynnön hoitaja voi vapauttaa sen." in card_text(body)
    status, body = await press_on_ticket(bot, AGENT, "Vapauta", taken["value"])
    assert "Avoin" in card_text(body)
    assert await events_of(bot, 1) == ["created", "taken", "released"]


def reply_box(body: dict[str, Any]) -> str:
    """What the ticket card's reply box holds."""
    found = [
        node.get("value", "")
        for action in body["value"]["actions"]
        if action["type"] == "Action.ShowCard"
        for node in action["card"]["body"]
        if node.get("id") == "ticket_reply"
    ]
    return found[0]


async def test_a_reply_pressed_twice_reaches_the_requester_once(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    before = len(bot.connector.delivered_to(employee.conversation_id))
    _, first = await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", card, ticket_reply="Tule käymään."
    )
    _, again = await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", card, ticket_reply="Tule käymään."
    )
    assert "Vastauksesi on jo" not in card_text(first)
    assert again["statusCode"] == 200
    assert "Vastauksesi oli jo lähetetty pyytäjälle" in card_text(again)
    assert reply_box(again) == "", "nothing left to send again"
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert all_text(told).count("Tule käymään.") == 1
    assert await events_of(bot, 1) == ["created", "replied"]
    assert len(thread_notes(bot)) == 1


async def test_two_reply_presses_at_once_send_one_reply(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    before = len(bot.connector.delivered_to(employee.conversation_id))
    answers = await asyncio.gather(
        *(
            press_on_ticket(bot, AGENT, "Lähetä vastaus", card, ticket_reply="Tule käymään.")
            for _ in range(2)
        )
    )
    assert [status for status, _ in answers] == [200, 200]
    assert sorted("oli jo lähetetty" in card_text(body) for _, body in answers) == [False, True]
    told = bot.connector.delivered_to(employee.conversation_id)[before:]
    assert all_text(told).count("Tule käymään.") == 1
    assert await events_of(bot, 1) == ["created", "replied"]
    assert len(thread_notes(bot)) == 1


async def test_a_reply_on_a_card_changed_meanwhile_keeps_what_was_typed(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    await press_on_ticket(bot, SECOND_AGENT, "Ota työn alle", card)
    _, body = await press_on_ticket(bot, AGENT, "Lähetä vastaus", card, ticket_reply="Hei!")
    assert "Tukipyyntö oli ehtinyt muuttua" in card_text(body)
    assert reply_box(body) == "Hei!"
    assert await events_of(bot, 1) == ["created", "taken"]


async def reply_to(bot: BotUnderTest, employee: TeamsUser) -> dict[str, Any]:
    """The helpdesk replies; returns the answer button of the card the requester got."""
    await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", posted_card(bot), ticket_reply="Viethän huoltoon?"
    )
    return buttons(bot.connector.delivered_to(employee.conversation_id))["Lähetä vastaus"]


async def test_an_answer_pressed_twice_gives_one_note(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    answer = {**await reply_to(bot, employee), "ticket_answer.1": "Vien huomenna."}
    first = await bot.press(employee, answer)
    again = await bot.press(employee, answer)
    await relayed(bot)
    assert "Vastauksesi lisättiin tukipyyntöön #1." in all_text(first)
    assert "Vastauksesi tukipyyntöön #1 oli jo vastaanotettu" in all_text(again)
    assert await events_of(bot, 1) == ["created", "replied", "answered"]
    assert sum("Vien huomenna." in note for note in thread_notes(bot)) == 1


async def test_another_text_sent_from_the_same_box_is_another_answer(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    box = await reply_to(bot, employee)
    await bot.press(employee, {**box, "ticket_answer.1": "Vien huomenna."})
    second = await bot.press(employee, {**box, "ticket_answer.1": "Ja laturin myös."})
    await relayed(bot)
    assert "Vastauksesi lisättiin tukipyyntöön #1." in all_text(second)
    assert await events_of(bot, 1) == ["created", "replied", "answered", "answered"]
    assert sum("Ja laturin myös." in note for note in thread_notes(bot)) == 1


async def test_two_answer_presses_at_once_give_one_note(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    answer = {**await reply_to(bot, employee), "ticket_answer.1": "Vien huomenna."}
    replies = await asyncio.gather(bot.press(employee, answer), bot.press(employee, answer))
    await relayed(bot)
    assert sorted("oli jo vastaanotettu" in all_text(sent) for sent in replies) == [False, True]
    assert await events_of(bot, 1) == ["created", "replied", "answered"]
    assert sum("Vien huomenna." in note for note in thread_notes(bot)) == 1


async def test_an_answer_from_a_card_without_a_token_is_kept_to_send_again(bot, employee):
    await escalate(bot, employee)
    old = {"verb": "ticket.answer", "ticket": 1, "ticket_answer.1": "Vien huomenna."}
    replies = await bot.press(employee, old)
    assert "ei vielä lähetetty" in all_text(replies)
    [card] = cards(replies)
    box = next(node for node in card["body"] if node.get("id") == "ticket_answer.1")
    assert box["value"] == "Vien huomenna."
    assert await events_of(bot, 1) == ["created"]
    resent = await bot.press(
        employee, {**buttons(replies)["Lähetä vastaus"], "ticket_answer.1": box["value"]}
    )
    assert "Vastauksesi lisättiin tukipyyntöön #1." in all_text(resent)
    assert await events_of(bot, 1) == ["created", "answered"]


async def test_a_reply_that_cannot_go_keeps_what_the_agent_typed(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    await press_on_ticket(bot, AGENT, "Ratkaistu", card)
    _status, body = await press_on_ticket(
        bot, SECOND_AGENT, "Lähetä vastaus", card, ticket_reply="Hei!"
    )
    assert "Tukipyyntö on jo ratkaistu." in card_text(body)
    assert await events_of(bot, 1) == ["created", "resolved"]


async def test_people_outside_the_helpdesk_team_are_refused_and_logged(bot, employee, caplog):
    await set_channel(bot)
    await escalate(bot, employee)
    card = posted_card(bot)
    caplog.set_level(logging.WARNING)

    status, body = await press_on_ticket(bot, OUTSIDER, "Ota työn alle", card)
    assert (status, body["statusCode"]) == (200, 403)
    assert "Vain tukipalvelun tiimin jäsenet" in body["value"]["message"]
    assert "not in the helpdesk team" in caplog.text

    # The requester copies the card's payload into their own chat.
    verb, data = executes([_as_reply(card)])["Ota työn alle"]
    response = await bot.post(activities.card_action(employee, bot.service_url, verb, data))
    assert (await response.json())["statusCode"] == 403
    assert "from outside the helpdesk team" in caplog.text
    for person in (OUTSIDER, employee):
        assert person.aad_object_id not in caplog.text, "the log names who was refused"
    [ticket] = await tickets_in(bot)
    assert (ticket.state, ticket.version) == ("open", 1)


async def test_a_member_who_leaves_the_team_can_no_longer_act(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    await bot.turn(
        activities.team_members_event(ADMIN, bot.service_url, TEAM, removed=(SECOND_AGENT,))
    )
    bot.connector.team_members[TEAM] = [team_member(ADMIN), team_member(AGENT)]
    _status, body = await press_on_ticket(bot, SECOND_AGENT, "Ota työn alle", posted_card(bot))
    assert body["statusCode"] == 403


async def test_a_member_who_joins_later_is_found_in_the_team(bot, employee, clock):
    await set_channel(bot)
    await escalate(bot, employee)
    newcomer = TeamsUser.new("Niina Uusi")
    bot.connector.team_members[TEAM].append(team_member(newcomer))
    clock.now += timedelta(minutes=2)  # the roster is asked again at most once a minute
    _status, body = await press_on_ticket(bot, newcomer, "Ota työn alle", posted_card(bot))
    assert body["statusCode"] == 200
    assert "Työn alla: Niina Uusi" in card_text(body)


async def test_a_member_removed_without_teams_telling_the_bot_is_refused_within_ten_minutes(
    bot, employee, clock
):
    await set_channel(bot)
    await escalate(bot, employee)
    bot.connector.team_members[TEAM] = [team_member(ADMIN), team_member(AGENT)]  # no event came
    clock.now += timedelta(minutes=9)
    _, body = await press_on_ticket(bot, SECOND_AGENT, "Ota työn alle", posted_card(bot))
    assert "Työn alla: Outi Tukela" in card_text(body), "the roster read 9 minutes ago stands"
    clock.now += timedelta(minutes=2)
    _, body = await press_on_ticket(bot, SECOND_AGENT, "Ratkaistu", body["value"])
    assert body["statusCode"] == 403
    assert "Vain tukipalvelun tiimin jäsenet" in body["value"]["message"]
    [ticket] = await tickets_in(bot)
    assert (ticket.state, ticket.assignee_name) == ("taken", "Outi Tukela")


async def test_the_roster_is_read_once_per_interval_however_many_press(bot, employee, clock):
    await set_channel(bot)
    await escalate(bot, employee)
    reads = roster_reads(bot)
    for _ in range(3):
        for member in (ADMIN, AGENT, SECOND_AGENT):
            assert (await refresh_card(bot, member))["statusCode"] == 200
    assert roster_reads(bot) == reads, "known members within the interval cost no read"
    clock.now += timedelta(minutes=11)
    answers = await asyncio.gather(
        *(refresh_card(bot, member) for member in (ADMIN, AGENT, SECOND_AGENT) * 3)
    )
    assert [answer["statusCode"] for answer in answers] == [200] * 9
    assert roster_reads(bot) == reads + 1, "nine presses at once, one read"


async def test_a_connector_outage_during_the_check_refuses_politely_until_it_passes(
    engine, clock, employee
):
    async with helpdesk_bot(engine, clock, send_max_attempts=1) as bot:
        await set_channel(bot)
        await escalate(bot, employee)
        bot.connector.team_members[TEAM] = [team_member(ADMIN), team_member(AGENT)]
        bot.connector.unreadable_teams.add(TEAM)
        clock.now += timedelta(minutes=11)
        reads = roster_reads(bot)
        for member in (SECOND_AGENT, AGENT):
            status, body = await press_on_ticket(bot, member, "Ota työn alle", posted_card(bot))
            assert (status, body["statusCode"]) == (200, 503)
            assert "Yritä hetken päästä uudelleen" in body["value"]["message"]
        assert roster_reads(bot) == reads + 1, "no second read during the pause after a failure"
        [ticket] = await tickets_in(bot)
        assert (ticket.state, ticket.version) == ("open", 1)

        bot.connector.unreadable_teams.clear()
        clock.now += timedelta(minutes=1)
        _, body = await press_on_ticket(bot, SECOND_AGENT, "Ota työn alle", posted_card(bot))
        assert body["statusCode"] == 403, "removed while the connector was down: still refused"
        _, body = await press_on_ticket(bot, AGENT, "Ota työn alle", posted_card(bot))
        assert "Työn alla: Aki Tukinen" in card_text(body)


async def test_the_requester_cannot_answer_someone_elses_ticket(bot, employee, caplog):
    await escalate(bot, employee)
    intruder = TeamsUser.new("Ville Vieras")
    caplog.set_level(logging.WARNING)
    replies = await bot.press(
        intruder, {"verb": "ticket.answer", "ticket": 1, "ticket_answer.1": "Minä tässä"}
    )
    assert "Tätä tukipyyntöä ei löytynyt omista tukipyynnöistäsi." in all_text(replies)
    assert "refused an answer to ticket 1 by someone else" in caplog.text
    assert await events_of(bot, 1) == ["created"]


async def test_a_failed_channel_post_is_retried_later(bot, employee, clock):
    await set_channel(bot)
    bot.connector.unknown_conversations.add(CHANNEL)  # the channel is gone for a while
    await escalate(bot, employee)
    assert channel_posts(bot) == []
    [ticket] = await tickets_in(bot)
    assert ticket.relay_attempts == 1 and ticket.relay_retry_at is not None
    assert ticket.relay_error.startswith("Bot Connector 404")
    bot.connector.unknown_conversations.clear()

    await bot.components.jobs.relay.run_once()
    assert channel_posts(bot) == [], "not before its back-off"
    clock.now += timedelta(minutes=1)
    await bot.components.jobs.relay.run_once()
    assert len(channel_posts(bot)) == 1
    [ticket] = await tickets_in(bot)
    assert (ticket.relay_pending, ticket.relay_attempts, ticket.relay_error) == (False, 0, None)


async def test_tickets_list_for_reporting(sqlite_engine, employee, monkeypatch, capsys):
    from bot.cli import main

    async with running_bot(sqlite_engine, Settings(app_id="")) as running:
        await escalate(running, employee, "Näyttö rikki")
        await escalate(running, TeamsUser.new("=Kaava Kokeilija"), "Toinen", topic="lost_or_stolen")
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    assert await asyncio.to_thread(main, ["tickets", "list", "--state", "open"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("#1 Avoin: Puhelimen vika tai käyttö, Maija Meikäläinen (–)")
    assert "ei vielä kanavalla (no helpdesk channel is set)" in listed[0]
    assert listed[1].startswith("#2 Avoin KIIREELLINEN: Kadonnut tai varastettu puhelin")

    assert await asyncio.to_thread(main, ["tickets", "list", "--state", "all", "--csv"]) == 0
    rows = capsys.readouterr().out.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("numero;tila;kiireellinen;aihe;yksikkö;pyytäjä")
    assert rows[2].split(";")[5] == "'=Kaava Kokeilija", "no formula reaches Excel"

    assert await asyncio.to_thread(main, ["tickets", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "#1 Avoin: Puhelimen vika tai käyttö" in shown
    assert "kuvaus: Näyttö rikki" in shown
    assert "luotu Maija Meikäläinen" in shown
    assert await asyncio.to_thread(main, ["tickets", "show", "99"]) == 1

    assert await asyncio.to_thread(main, ["tickets", "list", "--state", "resolved"]) == 0
    assert capsys.readouterr().out.strip() == "ei tukipyyntöjä"
    assert await asyncio.to_thread(main, ["tickets", "list", "--state", "lost"]) == 2


async def test_unassigned_tickets_are_raised_again_once_per_working_day(bot, employee, clock):
    await set_channel(bot)
    await escalate(bot, employee)
    relay = bot.components.jobs.relay
    clock.now += timedelta(hours=3)
    await relay.run_once()
    assert thread_notes(bot) == []
    clock.now += timedelta(hours=2)  # 14.00 Helsinki, five hours unassigned
    await relay.run_once()
    await relay.run_once()
    assert thread_notes(bot) == ["⏰ Tämä tukipyyntö odottaa yhä käsittelijää."]
    clock.now += timedelta(hours=12)  # night: quiet
    await relay.run_once()
    assert len(thread_notes(bot)) == 1
    clock.now += timedelta(hours=9)  # the next working morning
    await relay.run_once()
    assert len(thread_notes(bot)) == 2


async def test_what_people_typed_never_becomes_markup_in_the_channel(bot):
    await set_channel(bot)
    trickster = TeamsUser.new("Teemu [Klikkaa](https://evil.example)")
    await escalate(bot, trickster, "<at>Kaikki</at> **huomio** [linkki](https://evil.example)")
    text = all_text(channel_posts(bot))
    assert "https://" not in text and "<at>" not in text and "**huomio**" not in text
    assert "huomio" in text


async def test_teams_refreshing_a_card_gets_its_current_state_for_that_member(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    await press_on_ticket(bot, AGENT, "Ota työn alle", posted_card(bot))
    own = await refresh_card(bot, AGENT)
    assert own["statusCode"] == 200 and "Vapauta" in executes([_as_reply(own["value"])])
    other = await refresh_card(bot, SECOND_AGENT)
    assert "Työn alla: Aki Tukinen" in card_text(other)
    assert "Vapauta" not in executes([_as_reply(other["value"])])
    assert (await refresh_card(bot, OUTSIDER))["statusCode"] == 403
    assert await events_of(bot, 1) == ["created", "taken"], "a refresh changes nothing"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"ticket": " 1", "version": 1},
        {"ticket": 1},
        {"ticket": 1, "version": True},
        {"ticket": 2**31, "version": 1},
        {"ticket": 10**20, "version": 1},
        {"ticket": 1, "version": 10**20},
    ],
    ids=[
        "nothing",
        "padded id",
        "no version",
        "bool version",
        "huge id",
        "huger id",
        "huge version",
    ],
)
async def test_a_malformed_ticket_press_is_a_clear_400(bot, employee, data):
    await set_channel(bot)
    await escalate(bot, employee)
    activity = activities.channel_card_action(
        AGENT,
        bot.service_url,
        "ticket.take",
        data,
        team_id=TEAM,
        channel_id=CHANNEL,
        thread_id=thread_of(bot),
    )
    response = await bot.post(activity)
    body = await response.json()
    assert (response.status, body["statusCode"]) == (200, 400)
    assert body["value"]["message"] == "Tukipyyntöä ei löytynyt."
    assert await events_of(bot, 1) == ["created"]


async def test_an_empty_reply_or_answer_sends_nothing(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    _, body = await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", posted_card(bot), ticket_reply="   "
    )
    assert "Kirjoita vastaus ennen lähettämistä." in card_text(body)
    _, body = await press_on_ticket(
        bot, AGENT, "Lähetä vastaus", posted_card(bot), ticket_reply="x" * 2001
    )
    assert "Vastaus on liian pitkä (enintään 2000 merkkiä)." in card_text(body)
    assert "x" * 2000 in str(body["value"]), "what was typed stays in the box"
    replies = await bot.press(employee, {"verb": "ticket.answer", "ticket": 1})
    assert "Vastaus oli tyhjä" in all_text(replies)
    assert await events_of(bot, 1) == ["created"]


async def test_escalating_after_a_sure_answer_keeps_the_question_and_the_answer(bot, employee):
    await bot.say(employee, "hei")
    answered = await bot.say(employee, "miten saan yhteyden ihmiseen?")
    form = await bot.press(employee, buttons(answered)["Ota yhteyttä tukeen"])
    assert "Kysyit minulta: miten saan yhteyden ihmiseen?" in all_text(form)
    assert "Vastasin: Miten saan yhteyden ihmiseen?" in all_text(form)


async def test_an_english_requester_hears_from_the_helpdesk_in_english(bot):
    english = TeamsUser.new("Emma Example", locale="en-US")
    await set_channel(bot)
    form = await bot.say(english, "talk to a person")
    assert "Contact support" in all_text(form)
    value = {
        **buttons(form)["Send request"],
        "ticket_topic": "other",
        "ticket_description": "Where is my phone?",
    }
    sent = await bot.press(english, value)
    await relayed(bot)
    assert "Your request #1 has been received." in all_text(sent)
    await press_on_ticket(bot, AGENT, "Ota työn alle", posted_card(bot))
    told = bot.connector.delivered_to(english.conversation_id)
    assert "Aki Tukinen from the helpdesk is now handling your request #1." in all_text(told)


async def test_two_agents_taking_at_once_change_the_ticket_once(bot, employee):
    import asyncio as aio

    from bot.tickets import service as tickets

    await escalate(bot, employee)
    sessions = bot.components.sessions
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    async def take(agent: TeamsUser) -> str:
        try:
            async with sessions() as session, session.begin():
                await tickets.take(
                    session=session,
                    ticket_id=1,
                    version=1,
                    actor=tickets.Actor(agent.aad_object_id, agent.name),
                    now=now,
                )
        except tickets.TicketError as error:
            return error.reason
        return "taken"

    outcomes = await aio.gather(take(AGENT), take(SECOND_AGENT))
    assert sorted(outcomes) == ["stale", "taken"]
    assert await events_of(bot, 1) == ["created", "taken"]


async def test_a_requester_who_blocked_the_bot_is_not_retried_forever(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    bot.connector.blocked.add(employee.conversation_id)
    status, _ = await press_on_ticket(bot, AGENT, "Ota työn alle", posted_card(bot))
    assert status == 200
    async with bot.components.sessions() as session:
        taken = await session.scalar(select(TicketEvent).where(TicketEvent.kind == "taken"))
    assert (taken.note_state, taken.notify_state) == ("done", "failed")
    [ticket] = await tickets_in(bot)
    assert not ticket.relay_pending, "the channel heard; the requester never will"


async def test_only_one_relay_at_a_time_holds_a_ticket(bot, employee, clock):
    from bot.tickets import service as tickets

    await escalate(bot, employee)  # no channel yet: it stays owed
    clock.now += timedelta(hours=1)
    lease = timedelta(seconds=60)
    async with bot.components.sessions() as session, session.begin():
        first = await tickets.claim_relay(session=session, ticket_id=1, now=clock.now, lease=lease)
    async with bot.components.sessions() as session, session.begin():
        second = await tickets.claim_relay(session=session, ticket_id=1, now=clock.now, lease=lease)
    assert first is not None and second is None
    later = clock.now + timedelta(seconds=61)  # the first process died holding it
    async with bot.components.sessions() as session, session.begin():
        taken_over = await tickets.claim_relay(session=session, ticket_id=1, now=later, lease=lease)
    assert taken_over is not None


async def test_someone_teams_says_joined_the_team_may_act_at_once(bot, employee):
    await set_channel(bot)
    await escalate(bot, employee)
    newcomer = TeamsUser.new("Jaana Juuri")  # not in the roster the connector lists
    await bot.turn(activities.team_members_event(ADMIN, bot.service_url, TEAM, added=(newcomer,)))
    _, body = await press_on_ticket(bot, newcomer, "Ota työn alle", posted_card(bot))
    assert "Työn alla: Jaana Juuri" in card_text(body)


async def test_other_posts_get_a_hint_in_the_helpdesk_team_and_a_pointer_elsewhere(bot):
    await set_channel(bot)
    here = activities.channel_message(AGENT, bot.service_url, "<at>Puhelinbotti</at> hei", TEAM)
    assert "Tukipyyntöjä käsitellään korttien painikkeilla" in all_text(await bot.turn(here))
    elsewhere = activities.channel_message(AGENT, bot.service_url, "<at>Puhelinbotti</at> hei")
    assert "Keskustellaan mieluummin kahden kesken" in all_text(await bot.turn(elsewhere))
