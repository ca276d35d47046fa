"""Contact the helpdesk: a request form, its confirmation, one's own tickets, answers to them.

```mermaid
stateDiagram-v2
    [*] --> Form: menu, "talk to a person", or the helpdesk button under an answer
    Form --> Sent: send (valid)
    Form --> Form: send with problems (what was typed is kept)
    [*] --> Sent: the same form sent again (the first ticket, no second one)
    [*] --> Mine: "omat tukipyynnöt"
    [*] --> Answered: an answer typed on a helpdesk message or in Mine
    Sent --> [*]
    Mine --> [*]
    Answered --> [*]
```

Nothing waits in dialog state: each card carries what the next step needs, and the ticket is
in the database, so a restart or a second device loses nothing.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.dialogs.actions import VERB_KEY, Verb, verb_of
from bot.dialogs.helpdesk.desk import AGENT_VERBS, Helpdesk
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.opening import Opening
from bot.dialogs.replies import (
    card_invoke_response,
    error_invoke_response,
    send_card,
    send_text,
)
from bot.dialogs.turn import turn_of

HELPDESK_VERBS = frozenset({Verb.HELPDESK, Verb.HELPDESK_SEND, Verb.MY_TICKETS, Verb.TICKET_ANSWER})
# The requester's verbs in the chat, and the helpdesk team's on ticket cards in its channel.
VERBS = HELPDESK_VERBS | AGENT_VERBS
_OPENED_BY_WORDS = {IntentKind.HELPDESK: Verb.HELPDESK, IntentKind.MY_TICKETS: Verb.MY_TICKETS}


def opening(intent: Intent) -> Opening | None:
    """ "Helpdesk" or "my requests", pressed or typed, and the buttons of one's own requests
    open the helpdesk area, which is told the verb and the card's data."""
    verb = _OPENED_BY_WORDS.get(intent.kind) or intent.verb
    if verb is not None and verb in HELPDESK_VERBS:
        return Opening(Verb.HELPDESK, helpdesk_options(verb, intent.value))
    return None


class HelpdeskDialog(Dialog):
    def __init__(self, helpdesk: Helpdesk) -> None:
        super().__init__(HelpdeskDialog.__name__)
        self._helpdesk = helpdesk

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        turn = dialog_context.context
        sender = turn_of(turn).sender
        t = turn_of(turn).texts
        value: dict[str, Any] = options if isinstance(options, dict) else {}
        verb = verb_of(value) or Verb.HELPDESK
        aad_object_id = sender.aad_object_id
        if not aad_object_id:
            await send_text(turn, t("helpdesk.only_personal"))
            return await dialog_context.end_dialog()
        if verb is Verb.HELPDESK_SEND:
            await send_card(turn, await self._helpdesk.send_request(t, sender.actor, value))
        elif verb is Verb.MY_TICKETS:
            await send_card(turn, await self._helpdesk.my_tickets(t, aad_object_id))
        elif verb is Verb.TICKET_ANSWER:
            answered = await self._helpdesk.answer(t, aad_object_id, value)
            if isinstance(answered, str):
                await send_text(turn, answered)
            else:
                await send_card(turn, answered)
        else:
            await send_card(turn, self._helpdesk.request_form(t, value))
        return await dialog_context.end_dialog()


class TicketButtons:
    """The helpdesk team's buttons on ticket cards in its channel: the answer replaces the card."""

    in_place = AGENT_VERBS

    def __init__(self, helpdesk: Helpdesk) -> None:
        self._helpdesk = helpdesk

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        turn = turn_of(turn_context)
        answer = await self._helpdesk.act(verb, data, turn.sender.actor, turn.place)
        if answer.card is None:
            return error_invoke_response(answer.status, "Refused", answer.message)
        return card_invoke_response(answer.card)


def helpdesk_options(verb: Verb, value: dict[str, Any] | None) -> dict[str, Any]:
    """What the helpdesk area needs to know of a press: the verb and the card's data."""
    return {**(value or {}), VERB_KEY: verb.value}
