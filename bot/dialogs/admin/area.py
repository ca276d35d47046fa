"""The admin area's verbs and what each does: adding an admin action means one line here.

The role is checked on every message and every press, before anything is read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.dialogs.actions import Verb
from bot.dialogs.admin.desk import AdminDesk
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.replies import card_invoke_response, error_invoke_response, send_card, send_text
from bot.dialogs.turn import turn_of
from bot.i18n import Texts

Card = dict[str, Any]
Answer = Card | list[Card] | str


@dataclass(frozen=True)
class Press:
    """One admin action as the desk needs it: the texts, the card's values and who pressed."""

    texts: Texts
    value: dict[str, Any]
    author: str


Action = Callable[[AdminDesk, Press], Awaitable[Answer]]

ACTIONS: dict[Verb, Action] = {
    Verb.ADMIN_WAVES: lambda desk, press: desk.waves(press.texts),
    Verb.ADMIN_SCHEDULE_WAVE: lambda desk, press: desk.schedule(
        press.texts, press.value, author=press.author
    ),
    Verb.ADMIN_CAMPAIGNS: lambda desk, press: desk.campaigns(press.texts),
    Verb.ADMIN_ANNOUNCE: lambda desk, press: desk.compose(press.texts, press.value),
    Verb.ADMIN_ANNOUNCE_PREVIEW: lambda desk, press: desk.preview(
        press.texts, press.value, author=press.author
    ),
    Verb.ADMIN_ANNOUNCE_SEND: lambda desk, press: desk.send(
        press.texts, press.value, author=press.author
    ),
    Verb.ADMIN_ANNOUNCEMENTS: lambda desk, press: desk.announcements(press.texts),
    Verb.ADMIN_ANNOUNCE_CANCEL: lambda desk, press: desk.stop_announcement(
        press.texts, press.value, author=press.author
    ),
    Verb.ADMIN_ANNOUNCE_SAVE: lambda desk, press: desk.save_draft(
        press.texts, press.value, author=press.author
    ),
    Verb.ADMIN_ANNOUNCE_DELETE: lambda desk, press: desk.delete_draft(press.texts, press.value),
}
VERBS = frozenset(ACTIONS)
# Typed commands ("aallot", "kampanjat", ...) and the verb each stands for.
BY_WORDS = {
    IntentKind.ADMIN_WAVES: Verb.ADMIN_WAVES,
    IntentKind.ADMIN_CAMPAIGNS: Verb.ADMIN_CAMPAIGNS,
    IntentKind.ADMIN_ANNOUNCE: Verb.ADMIN_ANNOUNCE,
    IntentKind.ADMIN_ANNOUNCEMENTS: Verb.ADMIN_ANNOUNCEMENTS,
}
# The lists whose refresh button replaces the card in place (Action.Execute).
REFRESHED_IN_PLACE = frozenset({Verb.ADMIN_CAMPAIGNS, Verb.ADMIN_ANNOUNCEMENTS})


class AdminArea:
    """ICT's commands in a personal chat; refused for anyone who is not an ICT admin."""

    in_place = REFRESHED_IN_PLACE

    def __init__(self, desk: AdminDesk | None) -> None:
        self._desk = desk

    @staticmethod
    def owns(intent: Intent) -> bool:
        return intent.kind in BY_WORDS or intent.verb in VERBS

    async def on_message(self, turn_context: TurnContext, intent: Intent) -> None:
        turn = turn_of(turn_context)
        desk = self._allowed(turn_context)
        if desk is None:
            await send_text(turn_context, turn.texts("admin.only_admins"))
            return
        verb = BY_WORDS.get(intent.kind) or intent.verb
        if verb is None:
            return
        press = Press(turn.texts, intent.value or {}, turn.sender.aad_object_id or "")
        answer = await ACTIONS[verb](desk, press)
        if isinstance(answer, str):
            await send_text(turn_context, answer)
            return
        for card in answer if isinstance(answer, list) else [answer]:
            await send_card(turn_context, card)

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        """A list's refresh button: the fresh list replaces the card, for admins only."""
        turn = turn_of(turn_context)
        desk = self._allowed(turn_context)
        if desk is None:
            return error_invoke_response(403, "Forbidden", turn.texts("admin.only_admins"))
        if verb not in REFRESHED_IN_PLACE:
            return error_invoke_response(400, "BadRequest", turn.texts("errors.unknown_action"))
        answer = await ACTIONS[verb](desk, Press(turn.texts, {}, turn.sender.aad_object_id or ""))
        if not isinstance(answer, dict):
            return error_invoke_response(400, "BadRequest", turn.texts("errors.unknown_action"))
        return card_invoke_response(answer)

    def _allowed(self, turn_context: TurnContext) -> AdminDesk | None:
        sender = turn_of(turn_context).sender.aad_object_id
        if self._desk is None or not self._desk.allows(sender):
            return None
        return self._desk
