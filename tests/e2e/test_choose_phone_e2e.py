"""A Free Choice made by clicking cards in the Agents Playground, then read from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.choices.models import PhoneChoice
from bot.db.engine import create_engine, create_session_factory

pytestmark = pytest.mark.e2e

MAIJA = "00000000-0000-4000-8000-000000000001"


async def test_free_choice_by_clicking_cards(chat, demo_stack):
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    await chat.press("Valitse puhelin")
    await chat.wait_for_bot_text("Free Choice")
    await chat.press("Free Choice")
    await chat.wait_for_bot_text("Mikä sinulle on tärkeää?")
    await chat.press("Näytä puhelimet")
    await chat.wait_for_bot_text("Sinulle sopivat puhelimet")
    await chat.last_card().get_by_text("Samsung Galaxy A56", exact=True).click()
    await chat.wait_for_bot_text("256 Gt")
    await chat.press("Valitse tämä")
    await chat.wait_for_bot_text("Yhteenveto")
    summary = chat.last_card()
    await summary.get_by_text("Hyväksyn palkanvähennyksen").click()
    await chat.press("Hyväksyn ja valitsen")
    await chat.wait_for_bot_text("Valintasi on tallennettu")

    engine = create_engine(demo_stack.settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            choice = await session.scalar(select(PhoneChoice))
    finally:
        await engine.dispose()
    assert choice is not None
    assert choice.aad_object_id == MAIJA
    assert choice.model_name == "Samsung Galaxy A56"
    assert choice.employee_share_cents == 25000
    assert choice.consented_at is not None
    assert choice.consent_summary and choice.consent_summary["instalment_count"] == 24
