"""Answers to questions: the answer with next steps and 👍/👎, suggestions, or "I don't know"."""

from __future__ import annotations

import re
from typing import Any

from bot.dialogs.actions import Verb, execute, submit
from bot.dialogs.cards import card, text_block
from bot.faq.topics import Topic
from bot.i18n import Texts

FOLLOW_UPS = {
    "choose_phone": Verb.CHOOSE_PHONE,
    "my_deductions": Verb.MY_DEDUCTIONS,
    "my_turn": Verb.MY_TURN,
    "helpdesk": Verb.HELPDESK,
}
CONTEXT_LIMIT = 500
_MARKDOWN = re.compile(r"[\\`*_\[\]()#>~|<]")
_SPACE = re.compile(r"\s+")


def answer_card(
    t: Texts,
    topic: Topic,
    question_id: int,
    *,
    helpful: bool | None = None,
    asked: str | None = None,
) -> dict[str, Any]:
    """After feedback (`helpful` set) the same card says thanks instead of asking again."""
    text = topic.text(t.language)
    body = [
        text_block(text.title, weight="Bolder", size="Medium", style="heading"),
        text_block(text.answer),
    ]
    actions = [
        submit(t(f"faq.follow_up.{name}"), FOLLOW_UPS[name], **_context(name, asked, text.title))
        for name in topic.follow_ups
    ]
    if helpful is None:
        body.append(text_block(t("faq.helpful"), isSubtle=True, spacing="Medium"))
        feedback = {"question_id": question_id, "topic": topic.id}
        actions += [
            execute(t("faq.thumbs_up"), Verb.FAQ_FEEDBACK, **feedback, helpful=True),
            execute(t("faq.thumbs_down"), Verb.FAQ_FEEDBACK, **feedback, helpful=False),
        ]
    else:
        thanks = t("faq.thanks_yes") if helpful else t("faq.thanks_no")
        body.append(text_block(thanks, isSubtle=True, spacing="Medium"))
    return card(body, actions)


def suggestions_card(t: Texts, topics: list[Topic], question: str | None = None) -> dict[str, Any]:
    """The middle band: the closest questions as buttons, and a way to a person."""
    actions = [
        submit(topic.text(t.language).title, Verb.FAQ_TOPIC, topic=topic.id) for topic in topics
    ]
    offered = t("faq.offered", titles=" / ".join(topic.text(t.language).title for topic in topics))
    context = _context("helpdesk", question, offered)
    actions.append(submit(t("faq.follow_up.helpdesk"), Verb.HELPDESK, **context))
    return card([text_block(t("faq.suggest"))], actions)


def unknown_card(t: Texts, question: str) -> dict[str, Any]:
    """Below the threshold: no guess, the question shown back, and the helpdesk offered."""
    return card(
        [
            text_block(t("faq.unknown")),
            text_block(t("faq.unknown_question", question=plain(question)), isSubtle=True),
        ],
        [
            submit(
                t("faq.follow_up.helpdesk"),
                Verb.HELPDESK,
                **_context("helpdesk", question, t("faq.unknown")),
            ),
            submit(t("menu.open_menu"), Verb.OPEN_MENU),
        ],
    )


def ask_card(t: Texts, topics: list[Topic]) -> dict[str, Any]:
    """The 'Questions' area: invites a question in one's own words, with common ones as buttons."""
    return card(
        [
            text_block(t("faq.ask_title"), size="Large", weight="Bolder", style="heading"),
            text_block(t("faq.ask_hint")),
        ],
        [submit(topic.text(t.language).title, Verb.FAQ_TOPIC, topic=topic.id) for topic in topics],
    )


def _context(follow_up: str, asked: str | None, answered: str) -> dict[str, str]:
    """What the helpdesk form is pre-filled with: the question and what the bot said to it."""
    if follow_up != "helpdesk":
        return {}
    context = {"answered": answered[:CONTEXT_LIMIT]}
    if asked:
        context["asked"] = asked[:CONTEXT_LIMIT]
    return context


def plain(text: str, limit: int = 200) -> str:
    """Someone's own words shown back on one line, without markdown or addresses, so nothing they
    typed turns into a link or a list."""
    shown = _SPACE.sub(" ", _MARKDOWN.sub(" ", text)).replace("://", ": //").strip()
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
