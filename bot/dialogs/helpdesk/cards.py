"""Helpdesk cards: the employee's request form and updates, and the ticket card in the channel.

Whatever a requester or an agent typed is shown through `shown()`: no markdown, links or
mentions they did not mean reach the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dialogs.actions import Verb, execute, submit
from bot.dialogs.cards import card, text_block
from bot.dialogs.questions.cards import plain
from bot.i18n import Texts, texts
from bot.tickets.models import HelpdeskChannel, TicketState
from bot.tickets.service import MAX_DESCRIPTION, MAX_MESSAGE, TOPICS
from bot.tickets.views import TicketLine

TOPIC_INPUT = "ticket_topic"
DESCRIPTION_INPUT = "ticket_description"
URGENT_INPUT = "ticket_urgent"
ANSWER_INPUT = "ticket_answer"
REPLY_INPUT = "ticket_reply"
ANSWERABLE = 3  # answer boxes on the requester's list of tickets
REFRESH_USERS = 60  # Teams refreshes a card automatically for at most this many users

Card = dict[str, Any]


@dataclass(frozen=True)
class Draft:
    """What the form shows: its token, what was asked and answered, and what was typed so far."""

    token: str
    asked: str | None = None
    bot_answer: str | None = None
    topic: str = "other"
    description: str = ""
    urgent: bool = False


def shown(text: str, limit: int) -> str:
    """Someone's words, line by line, with nothing that turns into markup."""
    lines = [plain(line, limit) for line in text.splitlines()]
    joined = "\n\n".join(line for line in lines if line)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


def answer_input(ticket_id: int) -> str:
    """Each ticket's answer box has its own id: one card may hold several."""
    return f"{ANSWER_INPUT}.{ticket_id}"


def number(ticket_id: int) -> str:
    return f"#{ticket_id}"


def request_form_card(t: Texts, draft: Draft, problems: list[str] | None = None) -> Card:
    """The employee's request: topic, description (pre-filled with the question), urgency."""
    body: list[dict[str, Any]] = [
        text_block(t("helpdesk.form_title"), size="Large", weight="Bolder", style="heading"),
        text_block(t("helpdesk.form_hint")),
    ]
    if draft.asked:
        body.append(text_block(t("helpdesk.you_asked", question=shown(draft.asked, 300))))
    if draft.bot_answer:
        body.append(
            text_block(
                t("helpdesk.bot_answered", answer=shown(draft.bot_answer, 300)), isSubtle=True
            )
        )
    for problem in problems or []:
        body.append(text_block(t(f"helpdesk.problem.{problem}"), color="Attention"))
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": TOPIC_INPUT,
            "label": t("helpdesk.topic_label"),
            "style": "compact",
            "isRequired": True,
            "errorMessage": t("helpdesk.problem.unknown_topic"),
            "value": draft.topic if draft.topic in TOPICS else "other",
            "choices": [
                {"title": t(f"helpdesk.topic.{topic}"), "value": topic} for topic in TOPICS
            ],
        },
        {
            "type": "Input.Text",
            "id": DESCRIPTION_INPUT,
            "label": t("helpdesk.description_label"),
            "placeholder": t("helpdesk.description_placeholder"),
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": t("helpdesk.problem.empty_description"),
            "maxLength": MAX_DESCRIPTION,
            "value": draft.description[:MAX_DESCRIPTION],
        },
        {
            "type": "Input.Toggle",
            "id": URGENT_INPUT,
            "title": t("helpdesk.urgent_label"),
            "value": "true" if draft.urgent else "false",
            "valueOn": "true",
            "valueOff": "false",
        },
    ]
    context = {
        key: value
        for key, value in (("asked", draft.asked), ("answered", draft.bot_answer))
        if value
    }
    return card(
        body,
        [
            submit(t("helpdesk.send"), Verb.HELPDESK_SEND, form=draft.token, **context),
            submit(t("helpdesk.my_tickets"), Verb.MY_TICKETS),
            submit(t("menu.open_menu"), Verb.OPEN_MENU),
        ],
    )


def request_sent_card(t: Texts, ticket_id: int, *, urgent: bool, again: bool) -> Card:
    """The confirmation: the number, what happens next, and for a lost phone what to do now."""
    body = [
        text_block(
            t("helpdesk.sent_again" if again else "helpdesk.sent", number=number(ticket_id)),
            weight="Bolder",
            size="Medium",
        ),
        text_block(t("helpdesk.what_next")),
    ]
    if urgent:
        body.append(text_block(t("helpdesk.urgent_advice"), color="Attention"))
    return card(
        body,
        [
            submit(t("helpdesk.my_tickets"), Verb.MY_TICKETS),
            submit(t("menu.open_menu"), Verb.OPEN_MENU),
        ],
    )


def update_for_requester_card(
    t: Texts, ticket_id: int, kind: str, *, agent: str | None, message: str | None, form: str
) -> Card:
    """A change in the requester's ticket, with a box to answer in (sent once, by `form`)."""
    body = [
        text_block(
            t(f"helpdesk.update.{kind}", number=number(ticket_id), agent=plain(agent or "", 80)),
            weight="Bolder",
        )
    ]
    if message:
        body.append(text_block(shown(message, MAX_MESSAGE)))
    return card(body + _answer_box(t, ticket_id), _answer_actions(t, ticket_id, form))


def answer_again_card(t: Texts, ticket_id: int, *, form: str, typed: str) -> Card:
    """An answer from a box without a form token: kept in a new box, for sending once."""
    body = [text_block(t("helpdesk.answer_old_card", number=number(ticket_id)), weight="Bolder")]
    return card(body + _answer_box(t, ticket_id, typed), _answer_actions(t, ticket_id, form))


def answer_added_card(t: Texts, ticket_id: int, *, reopened: bool, again: bool = False) -> Card:
    """The answer is in the ticket; `again`: it was already, this press added nothing."""
    if again:
        key = "helpdesk.answer_again"
    else:
        key = "helpdesk.answer_reopened" if reopened else "helpdesk.answer_added"
    return card(
        [text_block(t(key, number=number(ticket_id)))],
        [
            submit(t("helpdesk.my_tickets"), Verb.MY_TICKETS),
            submit(t("menu.open_menu"), Verb.OPEN_MENU),
        ],
    )


def my_tickets_card(
    t: Texts, tickets: list[TicketLine], now: datetime, forms: dict[int, str]
) -> Card:
    """The requester's own tickets, newest first; those in `forms` (ticket -> form token, the
    unresolved ones) can be answered here."""
    body: list[dict[str, Any]] = [
        text_block(t("helpdesk.mine_title"), size="Medium", weight="Bolder", style="heading")
    ]
    if not tickets:
        body.append(text_block(t("helpdesk.mine_none")))
    for ticket in tickets:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    text_block(
                        t(
                            "helpdesk.mine_line",
                            number=number(ticket.id),
                            topic=t(f"helpdesk.topic.{ticket.topic}"),
                            state=t(f"tickets.state.{ticket.state}"),
                        ),
                        weight="Bolder",
                    ),
                    text_block(shown(ticket.description, 200), isSubtle=True),
                    text_block(
                        t("helpdesk.mine_updated", when=t.datetime(ticket.updated_at)),
                        isSubtle=True,
                        size="Small",
                    ),
                ],
            }
        )
    actions = [
        {
            "type": "Action.ShowCard",
            "title": t("helpdesk.answer_to", number=number(ticket_id)),
            "card": card(_answer_box(t, ticket_id), _answer_actions(t, ticket_id, form)),
        }
        for ticket_id, form in list(forms.items())[:ANSWERABLE]
    ]
    actions.append(submit(t("helpdesk.new_request"), Verb.HELPDESK))
    return card(body, actions)


def ticket_card(
    t: Texts,
    ticket: TicketLine,
    *,
    viewer: str | None,
    refresh_ids: list[str],
    now: datetime,
    notice: str | None = None,
    reply_draft: str = "",
) -> Card:
    """The ticket in the helpdesk channel, as `viewer` (None: anyone) should see it now.

    `refresh` makes Teams ask for the current card whenever a listed member looks at it, so an
    agent never acts on what another has already changed.
    """
    state = t(f"tickets.state.{ticket.state}")
    if ticket.state == TicketState.TAKEN and ticket.assignee_name:
        state = t("tickets.taken_by", agent=plain(ticket.assignee_name, 80))
    title_key = "tickets.title_urgent" if ticket.urgent else "tickets.title"
    body: list[dict[str, Any]] = [
        text_block(
            t(title_key, number=number(ticket.id)),
            size="Medium",
            weight="Bolder",
            style="heading",
            color="Attention" if ticket.urgent else "Default",
        ),
        text_block(
            state,
            weight="Bolder",
            color="Good" if ticket.state == TicketState.RESOLVED else "Accent",
        ),
        {
            "type": "FactSet",
            "facts": [
                {"title": t("tickets.requester"), "value": plain(ticket.requester_name, 120)},
                {"title": t("tickets.unit"), "value": plain(ticket.unit_name or "–", 120)},
                {"title": t("tickets.topic"), "value": t(f"helpdesk.topic.{ticket.topic}")},
                {"title": t("tickets.age"), "value": age(t, ticket.created_at, now)},
            ],
        },
        text_block(t("tickets.description"), weight="Bolder", spacing="Medium"),
        text_block(shown(ticket.description, MAX_DESCRIPTION)),
    ]
    if ticket.asked:
        body.append(
            text_block(t("tickets.asked", question=shown(ticket.asked, 300)), isSubtle=True)
        )
    body.append(
        text_block(
            t("tickets.bot_answer", answer=shown(ticket.bot_answer, 300))
            if ticket.bot_answer
            else t("tickets.no_bot_answer"),
            isSubtle=True,
        )
    )
    if ticket.last_message:
        body.append(text_block(shown(ticket.last_message, 300), isSubtle=True, spacing="Medium"))
    if notice:
        body.append(text_block(notice, color="Warning", weight="Bolder"))
    content = card(body, _ticket_actions(t, ticket, viewer, reply_draft))
    content["refresh"] = {
        "action": {
            "type": "Action.Execute",
            "verb": Verb.TICKET_REFRESH.value,
            "data": {"ticket": ticket.id},
        },
        "userIds": refresh_ids[:REFRESH_USERS],
    }
    return content


def ticket_note(t: Texts, kind: str, *, actor: str | None, message: str | None) -> str:
    """A line threaded under the ticket card for one change (Teams markdown, escaped)."""
    line = t(f"tickets.note.{kind}", actor=plain(actor or "", 80))
    if message:
        return f"{line}\n\n{shown(message, MAX_MESSAGE)}"
    return line


def age(t: Texts, since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return t("tickets.age_minutes", minutes=minutes)
    if minutes < 48 * 60:
        return t("tickets.age_hours", hours=minutes // 60)
    return t("tickets.age_days", days=minutes // (24 * 60))


def _ticket_actions(
    t: Texts, ticket: TicketLine, viewer: str | None, reply_draft: str
) -> list[dict[str, Any]]:
    keys = {"ticket": ticket.id, "version": ticket.version}
    if ticket.state == TicketState.RESOLVED:
        return [execute(t("tickets.reopen"), Verb.TICKET_REOPEN, **keys)]
    actions = []
    if ticket.state == TicketState.OPEN:
        actions.append(execute(t("tickets.take"), Verb.TICKET_TAKE, **keys))
    elif viewer is not None and ticket.assignee_aad == viewer:
        actions.append(execute(t("tickets.release"), Verb.TICKET_RELEASE, **keys))
    actions.append(
        {
            "type": "Action.ShowCard",
            "title": t("tickets.reply"),
            "card": card(
                [
                    {
                        "type": "Input.Text",
                        "id": REPLY_INPUT,
                        "label": t("tickets.reply_label", name=plain(ticket.requester_name, 80)),
                        "isMultiline": True,
                        "isRequired": True,
                        "errorMessage": t("tickets.problem.empty_message"),
                        "maxLength": MAX_MESSAGE,
                        "value": reply_draft[:MAX_MESSAGE],
                    }
                ],
                [execute(t("tickets.send_reply"), Verb.TICKET_REPLY, **keys)],
            ),
        }
    )
    actions.append(execute(t("tickets.resolve"), Verb.TICKET_RESOLVE, **keys))
    return actions


def _answer_box(t: Texts, ticket_id: int, typed: str = "") -> list[dict[str, Any]]:
    box = {
        "type": "Input.Text",
        "id": answer_input(ticket_id),
        "label": t("helpdesk.answer_label"),
        "isMultiline": True,
        "maxLength": MAX_MESSAGE,
    }
    if typed:
        box["value"] = typed[:MAX_MESSAGE]
    return [box]


def _answer_actions(t: Texts, ticket_id: int, form: str) -> list[dict[str, Any]]:
    return [submit(t("helpdesk.send_answer"), Verb.TICKET_ANSWER, ticket=ticket_id, form=form)]


def channel_texts(channel: HelpdeskChannel | None, default_language: str) -> Texts:
    """The helpdesk channel speaks the language it was set up in."""
    return texts(channel.language if channel else default_language)
