"""My unit's turn: when the employee's unit may choose.

```mermaid
stateDiagram-v2
    [*] --> Card: menu button or "milloin on meidän vuoro?"
    Card --> [*]
```
"""

from __future__ import annotations

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.dialogs.actions import Verb
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.opening import Opening
from bot.dialogs.replies import send_card
from bot.dialogs.rollout.cards import my_turn_card
from bot.dialogs.turn import turn_of
from bot.rollout.service import TurnReader

# The unit's turn, and "remind me later" on the card that says the window is open.
VERBS = frozenset({Verb.MY_TURN, Verb.REMIND_LATER})


def opening(intent: Intent) -> Opening | None:
    """ "My unit's turn", pressed or typed, opens one's unit's window."""
    if intent.kind is IntentKind.MY_TURN or intent.verb is Verb.MY_TURN:
        return Opening(Verb.MY_TURN)
    return None


class MyTurnDialog(Dialog):
    def __init__(self, reader: TurnReader) -> None:
        super().__init__(MyTurnDialog.__name__)
        self._reader = reader

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        turn = turn_of(dialog_context.context)
        unit_turn = await self._reader.for_employee(turn.sender.aad_object_id or "")
        await send_card(dialog_context.context, my_turn_card(turn.texts, unit_turn))
        return await dialog_context.end_dialog()
