"""Dialog state saved before the areas were dialogs of their own still goes on where it was.

Until 2026-12-07 an area's dialog ran inside the main menu's component dialog, so a conversation
waiting in the phone choice was stored as the menu with the choice inside it. A bot updated while
someone is half-way through choosing must carry on from that step, not fail or start over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from botbuilder.dialogs import ComponentDialog, DialogInstance, DialogState
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.state_storage import BotStateRecord, decode_item, encode_item
from bot.db.engine import create_session_factory
from bot.dialogs.actions import Verb
from bot.dialogs.menu.dialog import MainMenuDialog
from bot.dialogs.phone.dialog import ChoosePhoneDialog
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def _store_in_the_old_shape(engine: AsyncEngine) -> None:
    """Rewrite the stored dialog stack as the earlier bot kept it: the area inside the menu."""
    async with create_session_factory(engine)() as session, session.begin():
        rows = (await session.scalars(select(BotStateRecord))).all()
        [row] = [row for row in rows if "DialogState" in row.data]
        item = decode_item(row.data, row.etag)
        dialog_state: DialogState = item["DialogState"]
        [waiting] = dialog_state.dialog_stack
        assert waiting.id == ChoosePhoneDialog.__name__
        menu = DialogInstance()
        menu.id = MainMenuDialog.__name__
        menu.state = {ComponentDialog.persisted_dialog_state: DialogState([waiting])}
        dialog_state.dialog_stack[:] = [menu]
        await session.execute(
            update(BotStateRecord)
            .where(BotStateRecord.key == row.key)
            .values(data=encode_item(item))
        )


async def test_an_aside_right_after_the_lift_leaves_the_choice_waiting(bot, engine):
    shown = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(shown)["Valitse puhelin"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    await _store_in_the_old_shape(engine)

    aside = await bot.say(MAIJA, "paljonko minulla on vähennyksiä jäljellä?")
    assert "Omat vähennykset" in all_text(aside)
    assert "Puhelimen valinta odottaa" in all_text(aside)
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "Samsung Galaxy A56" in all_text(listed)


async def test_the_menu_waiting_on_its_own_is_left_as_it_is(bot):
    # The menu's own prompt waits inside it: not an area, so nothing is lifted, and a press
    # the menu does not know gets the menu again.
    await bot.say(MAIJA, "valikko")
    replies = await bot.press(MAIJA, {"verb": Verb.FAQ_FEEDBACK.value})
    assert "Valitse puhelin" in buttons(replies)


async def test_a_choice_stored_inside_the_menu_goes_on_at_its_step(bot, engine):
    shown = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(shown)["Valitse puhelin"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    await _store_in_the_old_shape(engine)

    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})

    assert "vanhentunut" not in all_text(listed)
    assert "Samsung Galaxy A56" in all_text(listed)
