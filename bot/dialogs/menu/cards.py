"""The welcome, main menu and language cards."""

from __future__ import annotations

from typing import Any

from bot.dialogs.actions import Verb, execute, submit
from bot.dialogs.cards import card, text_block
from bot.i18n import SUPPORTED_LANGUAGES, Texts, texts

MENU_AREAS: tuple[tuple[Verb, str], ...] = (
    (Verb.CHOOSE_PHONE, "menu.choose_phone"),
    (Verb.QUESTIONS, "menu.questions"),
    (Verb.MY_DEDUCTIONS, "menu.my_deductions"),
    (Verb.MY_TURN, "menu.my_turn"),
    (Verb.HELPDESK, "menu.helpdesk"),
)


def welcome_card(t: Texts, name: str | None, months: int, notice_url: str = "") -> dict[str, Any]:
    """The first card anyone sees: the program, what the bot keeps, and where to start."""
    title = t("welcome.title", name=name) if name else t("welcome.title_anonymous")
    return card(
        [
            text_block(title, size="Large", weight="Bolder", style="heading"),
            text_block(t("welcome.body")),
            text_block(t("welcome.options", months=months)),
            text_block(t("privacy.welcome"), isSubtle=True, size="Small"),
            text_block(t("welcome.language_hint"), isSubtle=True, size="Small"),
        ],
        [
            submit(t("welcome.start"), Verb.OPEN_MENU),
            *(
                [{"type": "Action.OpenUrl", "title": t("privacy.card.notice"), "url": notice_url}]
                if notice_url
                else []
            ),
        ],
    )


def menu_card(t: Texts) -> dict[str, Any]:
    """The main menu: one full-width button per area, easy to tap on a phone."""
    buttons = [
        {
            "type": "ActionSet",
            "actions": [submit(t(label), verb)],
            "spacing": "Small",
        }
        for verb, label in MENU_AREAS
    ]
    return card(
        [
            text_block(t("menu.title"), size="Medium", weight="Bolder", style="heading"),
            text_block(t("menu.hint"), isSubtle=True),
            *buttons,
        ],
        [submit(t("menu.language"), Verb.PICK_LANGUAGE)],
    )


def language_card(t: Texts) -> dict[str, Any]:
    return card(
        [
            text_block(t("language_picker.title"), size="Medium", weight="Bolder", style="heading"),
            text_block(t("language_picker.body")),
        ],
        [
            execute(texts(code)("language.name"), Verb.SET_LANGUAGE, language=code)
            for code in SUPPORTED_LANGUAGES
        ],
    )


def language_set_card(t: Texts) -> dict[str, Any]:
    """Replaces the language card in place once a language is chosen."""
    return card(
        [text_block(t("language.switched"), weight="Bolder")],
        [submit(t("menu.open_menu"), Verb.OPEN_MENU)],
    )


def coming_soon_card(t: Texts, area_label_key: str) -> dict[str, Any]:
    return card(
        [text_block(t("areas.coming_soon", area=t(area_label_key)))],
        [submit(t("menu.open_menu"), Verb.OPEN_MENU)],
    )
