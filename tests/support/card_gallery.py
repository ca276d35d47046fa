"""Every card the bot can send, in every language: add each new card of bot/cards/ here."""

from __future__ import annotations

from typing import Any

from bot.cards.menu import (
    MENU_AREAS,
    coming_soon_card,
    language_card,
    language_set_card,
    menu_card,
    welcome_card,
)
from bot.i18n import SUPPORTED_LANGUAGES, texts

SAMPLE_NAME = "Maija Meikäläinen"


def every_card() -> list[tuple[str, dict[str, Any]]]:
    """(name, card) pairs such as ("menu_card[fi]", {...}); a name starts with its function's."""
    gallery: list[tuple[str, dict[str, Any]]] = []
    for language in SUPPORTED_LANGUAGES:
        t = texts(language)
        gallery += [
            (f"welcome_card[{language}]", welcome_card(t, SAMPLE_NAME)),
            (f"welcome_card:anonymous[{language}]", welcome_card(t, None)),
            (f"menu_card[{language}]", menu_card(t)),
            (f"language_card[{language}]", language_card(t)),
            (f"language_set_card[{language}]", language_set_card(t)),
        ]
        gallery += [
            (f"coming_soon_card:{label}[{language}]", coming_soon_card(t, label))
            for _, label in MENU_AREAS
        ]
    return gallery


def card_function_name(gallery_name: str) -> str:
    """The function behind a gallery name: "coming_soon_card:menu.helpdesk[fi]" -> its name."""
    return gallery_name.split("[", 1)[0].split(":", 1)[0]
