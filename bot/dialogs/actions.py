"""The verbs a card button can carry back to the bot, and how a button is built."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

VERB_KEY = "verb"


class Verb(StrEnum):
    OPEN_MENU = "menu.open"
    CHOOSE_PHONE = "area.choose_phone"
    QUESTIONS = "area.questions"
    MY_DEDUCTIONS = "area.my_deductions"
    MY_TURN = "area.my_turn"
    MY_DATA = "area.my_data"
    HELPDESK = "area.helpdesk"
    PICK_LANGUAGE = "language.pick"
    SET_LANGUAGE = "language.set"
    PHONE_FREE = "phone.free"
    PHONE_PORI = "phone.pori"
    PHONE_FILTER = "phone.filter"
    PHONE_SHOW_ALL = "phone.show_all"
    PHONE_DETAILS = "phone.details"
    PHONE_PICK = "phone.pick"
    PHONE_ACCEPT = "phone.accept"
    PHONE_CONFIRM_PORI = "phone.confirm_pori"
    PHONE_CHANGE = "phone.change"
    PHONE_KEEP = "phone.keep"
    PHONE_WITHDRAW = "phone.withdraw"
    FLOW_BACK = "flow.back"
    FLOW_RESTART = "flow.restart"
    FLOW_CANCEL = "flow.cancel"
    REMIND_LATER = "notify.later"
    FAQ_TOPIC = "faq.topic"
    FAQ_FEEDBACK = "faq.feedback"
    ADMIN_WAVES = "admin.waves"
    ADMIN_SCHEDULE_WAVE = "admin.schedule_wave"
    ADMIN_CAMPAIGNS = "admin.campaigns"
    ADMIN_ANNOUNCE = "admin.announce"
    ADMIN_ANNOUNCE_PREVIEW = "admin.announce_preview"
    ADMIN_ANNOUNCE_SEND = "admin.announce_send"
    ADMIN_ANNOUNCEMENTS = "admin.announcements"
    ADMIN_ANNOUNCE_CANCEL = "admin.announce_cancel"
    ADMIN_ANNOUNCE_SAVE = "admin.announce_save"
    ADMIN_ANNOUNCE_DELETE = "admin.announce_delete"
    ANNOUNCEMENT_ACKNOWLEDGE = "announcement.acknowledge"
    HELPDESK_SEND = "helpdesk.send"
    MY_TICKETS = "helpdesk.mine"
    TICKET_ANSWER = "ticket.answer"
    TICKET_TAKE = "ticket.take"
    TICKET_RELEASE = "ticket.release"
    TICKET_REPLY = "ticket.reply"
    TICKET_RESOLVE = "ticket.resolve"
    TICKET_REOPEN = "ticket.reopen"
    TICKET_REFRESH = "ticket.refresh"


def submit(title: str, verb: Verb, **data: Any) -> dict[str, Any]:
    """A plain Action.Submit: Teams sends `data` back as the message's value.

    No `msteams` messageBack block: the Agents Playground 0.2.28 cannot click such buttons
    (its frozen card state breaks the renderer), and the verb works the same without it.
    """
    return {"type": "Action.Submit", "title": title, "data": {VERB_KEY: verb.value, **data}}


def verb_of(value: Any) -> Verb | None:
    """The verb in a submitted card's value, or None for anything we did not send."""
    if not isinstance(value, dict) or not isinstance(value.get(VERB_KEY), str):
        return None
    try:
        return Verb(value[VERB_KEY])
    except ValueError:
        return None


def execute(title: str, verb: Verb, **data: Any) -> dict[str, Any]:
    """An Action.Execute (Universal Action): the bot answers with a card that replaces this one."""
    return {"type": "Action.Execute", "title": title, "verb": verb.value, "data": data}
