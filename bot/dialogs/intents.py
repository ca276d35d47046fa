"""What a message asks for: a card verb, a command typed in any language, or free text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from bot.dialogs.actions import Verb, verb_of
from bot.i18n import SUPPORTED_LANGUAGES, catalog_entry


class IntentKind(StrEnum):
    VERB = "verb"
    MENU = "menu"
    CANCEL = "cancel"
    SWITCH_LANGUAGE = "switch_language"
    CHOOSE_PHONE = "choose_phone"
    MY_DEDUCTIONS = "my_deductions"
    MY_TURN = "my_turn"
    MY_DATA = "my_data"
    ADMIN_WAVES = "admin_waves"
    ADMIN_CAMPAIGNS = "admin_campaigns"
    ADMIN_ANNOUNCE = "admin_announce"
    ADMIN_ANNOUNCEMENTS = "admin_announcements"
    HELPDESK = "helpdesk"
    MY_TICKETS = "my_tickets"
    HELPDESK_CHANNEL = "helpdesk_channel"
    TEXT = "text"
    EMPTY = "empty"


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    verb: Verb | None = None
    language: str | None = None
    text: str = ""
    value: dict[str, Any] | None = None


def read_intent(text: str | None, value: Any) -> Intent:
    """Card submits win over text; then exact commands; anything else is free text."""
    verb = verb_of(value)
    if verb is Verb.SET_LANGUAGE and isinstance(value, dict):
        language = value.get("language")
        if language in SUPPORTED_LANGUAGES:
            return Intent(IntentKind.SWITCH_LANGUAGE, verb=verb, language=language)
        return Intent(IntentKind.VERB, verb=Verb.PICK_LANGUAGE)
    if verb is Verb.OPEN_MENU:
        return Intent(IntentKind.MENU, verb=verb)
    if verb is not None:
        return Intent(IntentKind.VERB, verb=verb, value=value)
    cleaned = (text or "").strip()
    if not cleaned:
        return Intent(IntentKind.EMPTY)
    key = _normalise(cleaned)
    commands = _commands()
    if key in commands:
        kind, language = commands[key]
        return Intent(kind, language=language, text=cleaned)
    return Intent(IntentKind.TEXT, text=cleaned)


def _normalise(text: str) -> str:
    return re.sub(r"[\s!?.,:;]+", " ", text.casefold()).strip()


@cache
def _commands() -> dict[str, tuple[IntentKind, str | None]]:
    """Command phrases from every catalog: anyone can say 'menu' or 'suomeksi' in any language."""
    phrases: dict[str, tuple[IntentKind, str | None]] = {}
    for language in SUPPORTED_LANGUAGES:
        for phrase in (
            *catalog_entry(language, "commands.menu"),
            *catalog_entry(language, "commands.greeting"),
        ):
            phrases[_normalise(phrase)] = (IntentKind.MENU, None)
        for phrase in catalog_entry(language, "commands.cancel"):
            phrases[_normalise(phrase)] = (IntentKind.CANCEL, None)
        for phrase in catalog_entry(language, "commands.choose_phone"):
            phrases[_normalise(phrase)] = (IntentKind.CHOOSE_PHONE, None)
        for phrase in catalog_entry(language, "commands.my_deductions"):
            phrases[_normalise(phrase)] = (IntentKind.MY_DEDUCTIONS, None)
        for phrase in catalog_entry(language, "commands.my_data"):
            phrases[_normalise(phrase)] = (IntentKind.MY_DATA, None)
        for phrase in catalog_entry(language, "commands.my_turn"):
            phrases[_normalise(phrase)] = (IntentKind.MY_TURN, None)
        for phrase in catalog_entry(language, "commands.admin_waves"):
            phrases[_normalise(phrase)] = (IntentKind.ADMIN_WAVES, None)
        for phrase in catalog_entry(language, "commands.admin_campaigns"):
            phrases[_normalise(phrase)] = (IntentKind.ADMIN_CAMPAIGNS, None)
        for phrase in catalog_entry(language, "commands.admin_announce"):
            phrases[_normalise(phrase)] = (IntentKind.ADMIN_ANNOUNCE, None)
        for phrase in catalog_entry(language, "commands.admin_announcements"):
            phrases[_normalise(phrase)] = (IntentKind.ADMIN_ANNOUNCEMENTS, None)
        for phrase in catalog_entry(language, "commands.helpdesk"):
            phrases[_normalise(phrase)] = (IntentKind.HELPDESK, None)
        for phrase in catalog_entry(language, "commands.my_tickets"):
            phrases[_normalise(phrase)] = (IntentKind.MY_TICKETS, None)
        for phrase in catalog_entry(language, "commands.helpdesk_channel"):
            phrases[_normalise(phrase)] = (IntentKind.HELPDESK_CHANNEL, language)
        for phrase in catalog_entry(language, "commands.switch_to_this"):
            phrases[_normalise(phrase)] = (IntentKind.SWITCH_LANGUAGE, language)
    return phrases
