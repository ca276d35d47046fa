"""Which area a message opens: declared by each area, asked by one router."""

from __future__ import annotations

import pytest

from bot.dialogs.actions import Verb
from bot.dialogs.areas import AREA_VERBS, OPENINGS
from bot.dialogs.intents import Intent, IntentKind, read_intent
from bot.dialogs.menu.cards import MENU_AREAS
from bot.dialogs.menu.dialog import MENU_BUTTON_VERBS
from bot.dialogs.opening import Router
from bot.dialogs.phone.dialog import ChoosePhoneDialog
from tests.support.bot import running_bot

ROUTER = Router(OPENINGS)


def _pressed(verb: Verb, **data: object) -> Intent:
    return read_intent(None, {"verb": verb.value, **data})


def _every_intent() -> list[Intent]:
    kinds = [Intent(kind, text="x") for kind in IntentKind if kind is not IntentKind.VERB]
    return kinds + [_pressed(verb) for verb in Verb]


def test_no_message_opens_two_areas():
    for intent in _every_intent():
        opened = [opening for opens in OPENINGS if (opening := opens(intent)) is not None]
        assert len(opened) <= 1, (intent, opened)


def test_an_area_is_opened_only_by_a_verb_an_area_owns():
    owned = {verb for verbs in AREA_VERBS.values() for verb in verbs}
    for intent in _every_intent():
        opening = ROUTER.opening(intent)
        if opening is not None:
            assert opening.verb in owned


def test_typed_text_is_a_question_whatever_was_waiting():
    opening = ROUTER.opening(Intent(IntentKind.TEXT, text="paljonko maksaa?"), "AnyDialog")
    assert opening is not None and opening.verb is Verb.QUESTIONS
    assert opening.options == {"question": "paljonko maksaa?"}


def test_a_suggested_topic_opens_its_answer():
    opening = ROUTER.opening(_pressed(Verb.FAQ_TOPIC, topic="dual-sim"))
    assert opening is not None and opening.options == {"topic": "dual-sim"}


@pytest.mark.parametrize(
    ("intent", "verb"),
    [
        (Intent(IntentKind.CHOOSE_PHONE), Verb.CHOOSE_PHONE),
        (Intent(IntentKind.MY_DEDUCTIONS), Verb.MY_DEDUCTIONS),
        (Intent(IntentKind.MY_TURN), Verb.MY_TURN),
        (Intent(IntentKind.HELPDESK), Verb.HELPDESK),
        (Intent(IntentKind.MY_TICKETS), Verb.HELPDESK),
    ],
)
def test_commands_typed_open_their_area(intent, verb):
    opening = ROUTER.opening(intent, "AnyDialog")
    assert opening is not None and opening.verb is verb


def test_the_helpdesk_is_told_which_of_its_buttons_was_pressed():
    opening = ROUTER.opening(_pressed(Verb.MY_TICKETS))
    assert opening is not None
    assert opening.options == {"verb": Verb.MY_TICKETS.value}


def test_a_phone_card_goes_to_the_phone_choice_that_waits_for_it():
    pressed = _pressed(Verb.PHONE_PICK, sku="X1")
    assert ROUTER.opening(pressed, ChoosePhoneDialog.__name__) is None
    reopened = ROUTER.opening(pressed, "QuestionsDialog")
    assert reopened is not None and reopened.verb is Verb.CHOOSE_PHONE
    assert reopened.options == {"stale_value": pressed.value}


def test_a_press_no_area_opens_belongs_to_what_waits():
    assert ROUTER.opening(_pressed(Verb.FAQ_FEEDBACK), ChoosePhoneDialog.__name__) is None
    assert ROUTER.opening(Intent(IntentKind.EMPTY)) is None


@pytest.mark.parametrize("verb", MENU_BUTTON_VERBS)
def test_every_menu_button_leaves_a_waiting_flow_for_its_area(verb):
    opening = ROUTER.opening(_pressed(verb), ChoosePhoneDialog.__name__)
    assert opening is not None and opening.verb is verb


async def test_every_area_opened_has_a_dialog_in_the_running_bot(engine):
    async with running_bot(engine) as bot:
        with_dialogs = bot.components.handler.area_verbs
    opened = {o.verb for i in _every_intent() if (o := ROUTER.opening(i)) is not None}
    assert opened - with_dialogs == {Verb.PICK_LANGUAGE}  # the menu's own language card
    assert {verb for verb, _ in MENU_AREAS} <= with_dialogs


def test_a_router_without_areas_is_refused():
    with pytest.raises(ValueError):
        Router([])
