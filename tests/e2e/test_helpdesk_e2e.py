"""A question escalated in the Playground's chat, taken and resolved by a helpdesk member in the
helpdesk channel, and the requester told in their chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.engine import create_engine, create_session_factory
from bot.demo.loader import demo_data
from bot.tickets.models import Ticket

pytestmark = pytest.mark.e2e


async def test_escalate_then_take_and_resolve_in_the_helpdesk_channel(chat, demo_stack):
    requester, agent = demo_data()["employees"][0], demo_data()["employees"][1]
    await chat.wait_for_bot_text("Mitä haluat tehdä?")

    # ICT makes the Playground's "Tukipalvelu" channel the helpdesk's.
    await chat.open_channel()
    await chat.post_mentioning_bot("tukikanava")
    await chat.page.get_by_text("Tämä kanava on nyt Puhelinbotin tukikanava").first.wait_for(
        timeout=20_000
    )

    # The employee asks for a person in their own chat.
    await chat.open_personal_chat()
    await chat.send("haluan puhua ihmiselle")
    form = await chat.wait_for_card("Kerro lyhyesti, mistä on kyse")
    await form.locator("textarea").first.fill("Puhelimeni näyttö on haljennut.")
    await form.get_by_role("button", name="Lähetä tukipyyntö").click()
    await chat.wait_for_bot_text("Tukipyyntösi #1 on vastaanotettu.")

    # A helpdesk member takes it and resolves it on the card in the channel.
    await chat.open_channel()
    card = await chat.wait_for_card("Tukipyyntö #1")
    assert "Puhelimeni näyttö on haljennut." in await card.inner_text()
    async with chat.acting_as(f"29:{agent['aad_object_id']}"):
        await card.get_by_role("button", name="Ota työn alle").click()
        taken = await chat.wait_for_card(f"Työn alla: {agent['name']}")
        await taken.get_by_role("button", name="Ratkaistu").click()
        await chat.wait_for_card("Avaa uudelleen")

    # The requester hears of both in their chat.
    await chat.open_personal_chat()
    await chat.wait_for_bot_text("hoitaa nyt tukipyyntöäsi #1")
    await chat.wait_for_bot_text("Tukipyyntösi #1 on merkitty ratkaistuksi.")

    engine = create_engine(demo_stack.settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            ticket = await session.scalar(select(Ticket))
    finally:
        await engine.dispose()
    assert ticket is not None
    assert (ticket.state, ticket.requester_aad) == ("resolved", requester["aad_object_id"])
    assert ticket.assignee_aad == agent["aad_object_id"]
