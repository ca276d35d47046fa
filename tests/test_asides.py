"""Text typed in the middle of a flow, through the real HTTP endpoint, on SQLite and PostgreSQL.

A question clearly about another area, or one the FAQ is sure of, is answered and the flow waits
at the same step; text a step expects stays in the flow; anything else gets the flow's hint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from sqlalchemy import func, select

from bot.dialogs.actions import Verb
from bot.dialogs.aside import Aside, AsideRouter, Flow, Routing, area_asked
from bot.dialogs.intents import IntentKind, read_intent
from bot.faq.models import FaqQuestion
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
PHONE_WAITS = 'Puhelimen valinta odottaa. Jatka kortin painikkeista tai kirjoita "peruuta".'
PHONE_WAITS_EN = 'Your phone choice is waiting. Carry on with the card\'s buttons or type "cancel".'
USE_BUTTONS = "Käytä kortin painikkeita"
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def to_wishes(bot: BotUnderTest, *, menu: str = "valikko", **titles: str) -> list[dict]:
    """The phone choice opened from the menu and Free Choice pressed: the wishes card waits."""
    shown = await bot.say(MAIJA, menu)
    options = await bot.press(MAIJA, buttons(shown)[titles.get("choose", "Valitse puhelin")])
    return await bot.press(MAIJA, buttons(options)["Free Choice"])


def last_text(replies: list[dict[str, Any]]) -> str:
    return str(replies[-1].get("text") or "")


async def test_a_deductions_question_is_answered_and_the_choice_waits_at_its_step(bot):
    wishes = await to_wishes(bot)
    replies = await bot.say(MAIJA, "paljonko minulla on vähennyksiä jäljellä?")
    text = all_text(replies)
    assert "Omat vähennykset" in text and "ei ole palkanvähennyksiä" in text
    assert last_text(replies) == PHONE_WAITS
    assert USE_BUTTONS not in text

    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "vanhentunut" not in all_text(listed)
    assert "Samsung Galaxy A56" in all_text(listed)


async def test_the_units_turn_and_the_helpdesk_are_answered_mid_choice(bot):
    wishes = await to_wishes(bot)
    turn = await bot.say(MAIJA, "milloin yksikköni vuoro alkaa?")
    assert "Yksikkösi: Sivistystoimiala" in all_text(turn)
    assert last_text(turn) == PHONE_WAITS

    helpdesk = await bot.say(MAIJA, "haluan puhua ihmiselle")
    assert "Lähetä tukipyyntö" in buttons(helpdesk)
    assert last_text(helpdesk) == PHONE_WAITS

    exact = await bot.say(MAIJA, "omat vähennykset")  # the menu's own words wait the same way
    assert "Omat vähennykset" in all_text(exact) and last_text(exact) == PHONE_WAITS

    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "Samsung Galaxy A56" in all_text(listed)


async def test_a_faq_question_mid_choice_gets_the_answer_and_the_wait_line(bot):
    wishes = await to_wishes(bot)
    replies = await bot.say(MAIJA, "voiko työpuhelimen ilmoitukset hiljentää työajan jälkeen?")
    assert "Oliko tästä apua?" in all_text(replies)
    assert last_text(replies) == PHONE_WAITS
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "Samsung Galaxy A56" in all_text(listed)


async def test_a_program_question_naming_deductions_goes_to_the_faq_not_to_my_figures(bot):
    await to_wishes(bot)
    replies = await bot.say(MAIJA, "onko puhelin mun oma kun vähennykset on maksettu?")
    text = all_text(replies)
    assert "Kenen puhelin on, kun se on maksettu?" in text
    assert "ei ole palkanvähennyksiä" not in text  # not the personal deductions card
    assert last_text(replies) == PHONE_WAITS


async def test_gibberish_mid_choice_gets_the_old_hint_and_is_not_kept(bot):
    wishes = await to_wishes(bot)
    replies = await bot.say(MAIJA, "asdfgh qwerty")
    assert USE_BUTTONS in all_text(replies)
    assert PHONE_WAITS not in all_text(replies)
    async with bot.components.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FaqQuestion)) == 0
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "Samsung Galaxy A56" in all_text(listed)


async def test_cancel_mid_choice_still_ends_the_choice(bot):
    wishes = await to_wishes(bot)
    await bot.say(MAIJA, "peruuta")
    stale = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    assert "vanhentunut" in all_text(stale)


async def test_in_english_too(bot):
    await bot.say(MAIJA, "in English")
    wishes = await to_wishes(bot, menu="menu", choose="Choose a phone")
    deductions = await bot.say(MAIJA, "how many deductions do I have left?")
    assert "My deductions" in all_text(deductions)
    assert last_text(deductions) == PHONE_WAITS_EN

    turn = await bot.say(MAIJA, "when is my unit's turn?")
    assert "Your unit" in all_text(turn) and last_text(turn) == PHONE_WAITS_EN

    faq = await bot.say(MAIJA, "can I silence work notifications after hours?")
    assert "Was this helpful?" in all_text(faq) and last_text(faq) == PHONE_WAITS_EN

    hint = await bot.say(MAIJA, "asdfgh qwerty")
    assert "Please use the card's buttons" in all_text(hint)

    listed = await bot.press(MAIJA, {**buttons(wishes)["Show phones"], **ANDROID_ONLY})
    assert "Samsung Galaxy A56" in all_text(listed)


class DescriptionFlow(Flow, Dialog):
    """A flow whose step asks for typed text, as a description typed into the chat would be."""

    def __init__(self) -> None:
        super().__init__("test.description")

    def expects_text(self, state: dict[str, Any]) -> bool:
        return True

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        await dialog_context.context.send_activity("Describe it.")
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        await dialog_context.context.send_activity(f"Got: {dialog_context.context.activity.text}")
        return await dialog_context.end_dialog()


@pytest.mark.parametrize(
    "typed",
    [
        "paljonko minulla on vähennyksiä jäljellä?",
        "omat vähennykset",
        "voiko työpuhelimen ilmoitukset hiljentää työajan jälkeen?",
    ],
)
async def test_a_step_that_expects_text_keeps_it(bot, typed):
    bot.components.handler.add_area(Verb.MY_TURN, DescriptionFlow())
    menu = await bot.say(MAIJA, "valikko")
    asked = await bot.press(MAIJA, buttons(menu)["Yksikköni vuoro"])
    assert all_text(asked) == "Describe it."
    replies = await bot.say(MAIJA, typed)
    assert all_text(replies) == f"Got: {typed}"


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("paljonko minulla on vähennyksiä jäljellä?", IntentKind.MY_DEDUCTIONS),
        ("mulla on vielä vähennyksiä?", IntentKind.MY_DEDUCTIONS),
        ("how many deductions do I have left?", IntentKind.MY_DEDUCTIONS),
        ("milloin yksikköni vuoro alkaa?", IntentKind.MY_TURN),
        ("milloin meidän yksikön vuoro tulee", IntentKind.MY_TURN),
        ("when is my unit's turn?", IntentKind.MY_TURN),
        ("haluan puhua ihmiselle", IntentKind.HELPDESK),
        ("can I talk to a person?", IntentKind.HELPDESK),
        ("missä näen omat tukipyynnöt?", IntentKind.MY_TICKETS),
        # About the program, not oneself: the FAQ's to answer.
        ("milloin vähennykset alkavat?", None),
        ("onko puhelimessa eSIM-tuki?", None),
        # A phrase that says too little once its small words are gone ("when do I get my phone").
        ("can I get a phone with a good camera?", None),
        # Of two areas the longer phrase wins; two equal ones are not clearly either.
        ("haluan puhua ihmiselle vähennyksistäni", IntentKind.HELPDESK),
        ("minun vähennykset ja tuki", None),
        ("asdfgh qwerty", None),
    ],
)
def test_which_area_a_typed_question_is_about(text, area):
    assert area_asked(text) is area


async def test_a_step_that_expects_text_owns_even_the_menus_words():
    router = AsideRouter(None)
    for typed in ("omat vähennykset", "valitse puhelin", "paljonko minulla on vähennyksiä?"):
        routing = await router.route(read_intent(typed, None), expects_text=True, asker=None)
        assert routing == Routing(Aside.FLOW)
    assert (
        await router.route(read_intent("", {"verb": "phone.free"}), expects_text=True, asker=None)
        is None
    )
    exact = await router.route(read_intent("tuki", None), expects_text=False, asker=None)
    assert exact == Routing(Aside.AREA, IntentKind.HELPDESK)


async def test_outside_any_flow_a_question_about_ones_own_deductions_opens_them(bot):
    await bot.say(MAIJA, "valikko")
    replies = await bot.say(MAIJA, "paljonko minulla on vähennyksiä jäljellä?")
    text = all_text(replies)
    assert "Omat vähennykset" in text and "ei ole palkanvähennyksiä" in text
    assert "En osaa vastata" not in text


async def test_outside_any_flow_a_program_question_about_deductions_stays_with_the_faq(bot):
    await bot.say(MAIJA, "valikko")
    replies = await bot.say(MAIJA, "milloin vähennykset alkavat?")
    assert "ei ole palkanvähennyksiä" not in all_text(replies)


def test_a_very_long_message_is_read_only_as_far_as_a_question_goes():
    tail = " minulla vähennykset" * 2000
    assert area_asked("hei" + " " * 400 + tail) is None
    assert area_asked("paljonko minulla on vähennyksiä jäljellä?" + " x" * 20000) is (
        IntentKind.MY_DEDUCTIONS
    )
