"""Which area a message opens: declared by each area, asked by one router."""

from __future__ import annotations

import pytest

from bot.dialogs.actions import Verb
from bot.dialogs.areas import AREA_VERBS, OPENINGS
from bot.dialogs.intents import Intent, IntentKind, read_intent
from bot.dialogs.opening import VERB_KEY, Router
from bot.dialogs.phone.dialog import ChoosePhoneDialog

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


def test_a_press_no_area_opens_starts_the_menu_with_its_verb():
    assert ROUTER.opening(_pressed(Verb.FAQ_FEEDBACK)) is None
    assert ROUTER.menu_options(_pressed(Verb.FAQ_FEEDBACK)) == {VERB_KEY: Verb.FAQ_FEEDBACK.value}
    assert ROUTER.menu_options(Intent(IntentKind.EMPTY)) == {}


def test_a_router_without_areas_is_refused():
    with pytest.raises(ValueError):
        Router([])
