"""A person chats with the bot in Microsoft's local Teams client, in headless Chromium."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_welcome_menu_and_a_button_press_in_the_playground(chat):
    # Opening the chat installs the app: the demo employee is welcomed in Finnish by name.
    await chat.wait_for_bot_text("Hei Maija, olen Puhelinbotti!")
    await chat.wait_for_bot_text("Mitä haluat tehdä?")

    before = len(await chat.bot_messages())
    await chat.send("valikko")
    after_menu = await chat.wait_for_count(before + 1)
    assert "Mitä haluat tehdä?" in after_menu[-1]

    await chat.press("Omat vähennykset")
    answered = await chat.wait_for_count(before + 2)
    assert "Et ole vielä valinnut puhelinta" in answered[-1]


async def test_switching_to_english_in_the_playground(chat):
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    await chat.send("in English")
    await chat.wait_for_bot_text("I'll speak English")
    await chat.press("Questions and answers")
    await chat.wait_for_bot_text("Type your question in your own words")


async def test_language_card_is_replaced_in_place_by_a_universal_action(chat):
    await chat.wait_for_bot_text("Mitä haluat tehdä?")
    await chat.press("In English / På svenska")
    await chat.wait_for_bot_text("Millä kielellä puhutaan?")
    count = len(await chat.bot_messages())
    await chat.press("Svenska")
    await chat.wait_for_bot_text("jag talar svenska")
    assert len(await chat.bot_messages()) == count, "the card changed in place, no new message"
