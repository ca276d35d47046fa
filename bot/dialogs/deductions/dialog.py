"""My deductions: the employee's own status card, in a one-to-one chat only.

```mermaid
stateDiagram-v2
    [*] --> Card: menu button or "paljonko on vielä maksamatta?"
    Card --> [*]
```
"""

from __future__ import annotations

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.deductions.service import DeductionReader
from bot.dialogs.actions import Verb
from bot.dialogs.deductions.cards import deductions_card
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.opening import Opening
from bot.dialogs.replies import send_card, send_text
from bot.dialogs.turn import turn_of

VERBS = frozenset({Verb.MY_DEDUCTIONS})


def opening(intent: Intent) -> Opening | None:
    """ "My deductions", pressed or typed, opens one's own deductions."""
    if intent.kind is IntentKind.MY_DEDUCTIONS or intent.verb is Verb.MY_DEDUCTIONS:
        return Opening(Verb.MY_DEDUCTIONS)
    return None


class MyDeductionsDialog(Dialog):
    """Reads the sender's own ledger; nothing in the request can name another employee."""

    def __init__(self, reader: DeductionReader) -> None:
        super().__init__(MyDeductionsDialog.__name__)
        self._reader = reader

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        context = dialog_context.context
        turn = turn_of(context)
        t = turn.texts
        if not turn.personal:
            await send_text(context, t("deductions.private_here"))
            return await dialog_context.end_dialog()
        if not turn.sender.aad_object_id:
            await send_text(context, t("deductions.unknown_person"))
            return await dialog_context.end_dialog()
        mine = await self._reader.for_employee(turn.sender.aad_object_id)
        await send_card(context, deductions_card(t, mine))
        return await dialog_context.end_dialog()
