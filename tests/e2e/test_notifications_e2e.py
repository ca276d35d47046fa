"""A unit's turn reaches the employee's chat in the Playground without them asking."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_the_window_card_arrives_and_remind_me_later_answers(chat, demo_stack):
    # The demo's first wave is open today for Sivistystoimiala and Konsernihallinto.
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    jobs = demo_stack.components.jobs
    assert await jobs.planner.plan_once() == 4  # Maija (in the Playground) and three more
    await jobs.dispatcher.run_until_idle()

    await chat.wait_for_bot_text("Yksikkösi vuoro on nyt!")
    await chat.wait_for_bot_text("Sivistystoimiala: voit nyt valita työpuhelimesi")
    await chat.press("Muistuta myöhemmin")
    await chat.wait_for_bot_text("Selvä, muistutan sinua")
