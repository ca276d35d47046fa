"""My deductions: the employee's own status card, in a one-to-one chat only.

```mermaid
stateDiagram-v2
    [*] --> Card: menu button or "paljonko on vielä maksamatta?"
    Card --> [*]
```
"""

from __future__ import annotations

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.cards.deductions import deductions_card
from bot.deductions.service import DeductionReader
from bot.dialogs.context import texts_of
from bot.dialogs.replies import send_card, send_text


class MyDeductionsDialog(Dialog):
    """Reads the sender's own ledger; nothing in the request can name another employee."""

    def __init__(self, reader: DeductionReader) -> None:
        super().__init__(MyDeductionsDialog.__name__)
        self._reader = reader

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        turn = dialog_context.context
        t = texts_of(turn)
        if turn.activity.conversation.conversation_type != "personal":
            await send_text(turn, t("deductions.private_here"))
            return await dialog_context.end_dialog()
        sender = turn.activity.from_property
        aad_object_id = getattr(sender, "aad_object_id", None)
        if not aad_object_id:
            await send_text(turn, t("deductions.unknown_person"))
            return await dialog_context.end_dialog()
        mine = await self._reader.for_employee(aad_object_id)
        await send_card(turn, deductions_card(t, mine))
        return await dialog_context.end_dialog()
