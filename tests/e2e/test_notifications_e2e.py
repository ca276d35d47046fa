"""A unit's turn reaches the employee's chat in the Playground without them asking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import helsinki_today
from bot.rollout.service import schedule_wave

pytestmark = pytest.mark.e2e


async def test_the_window_card_arrives_and_remind_me_later_answers(chat, demo_stack):
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    components = demo_stack.components
    today = helsinki_today(datetime.now(UTC))
    async with components.sessions() as session, session.begin():
        await schedule_wave(
            session=session,
            name="Demoaalto",
            opens_on=today,
            closes_on=today + timedelta(days=14),
            unit_codes=["SIVISTYS"],
        )
    assert await components.jobs.planner.plan_once() == 2  # Maija, and Sari who has no chat

    await chat.wait_for_bot_text("Yksikkösi vuoro on nyt!")
    await chat.wait_for_bot_text("Sivistystoimiala: voit nyt valita työpuhelimesi")
    await chat.press("Muistuta myöhemmin")
    await chat.wait_for_bot_text("Selvä, muistutan sinua")
