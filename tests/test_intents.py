"""Reading what a message asks for."""

from __future__ import annotations

import pytest

from bot.dialogs.actions import Verb
from bot.dialogs.intents import IntentKind, read_intent


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [
        ("in English", IntentKind.SWITCH_LANGUAGE, "en"),
        ("  IN ENGLISH! ", IntentKind.SWITCH_LANGUAGE, "en"),
        ("suomeksi", IntentKind.SWITCH_LANGUAGE, "fi"),
        ("På svenska", IntentKind.SWITCH_LANGUAGE, "sv"),
        ("valikko", IntentKind.MENU, None),
        ("Moi!", IntentKind.MENU, None),
        ("peruuta", IntentKind.CANCEL, None),
        ("haluan puhelimen englanniksi", IntentKind.TEXT, None),
        ("", IntentKind.EMPTY, None),
    ],
)
def test_typed_commands(text, kind, language):
    intent = read_intent(text, None)
    assert intent.kind is kind
    assert intent.language == language


def test_card_verb_wins_over_text():
    intent = read_intent("valikko", {"verb": "area.my_turn"})
    assert intent.kind is IntentKind.VERB and intent.verb is Verb.MY_TURN


@pytest.mark.parametrize("value", [{"verb": "nope"}, {"x": 1}, ["verb"], "area.my_turn", 7])
def test_payloads_we_did_not_send_are_ignored(value):
    assert read_intent("", value).kind is IntentKind.EMPTY


def test_language_card_with_unsupported_language_asks_again():
    intent = read_intent("", {"verb": "language.set", "language": "de"})
    assert intent.kind is IntentKind.VERB and intent.verb is Verb.PICK_LANGUAGE
