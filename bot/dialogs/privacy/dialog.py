"""My data, in a one-to-one chat only: the asker's own data and a link to their copy.

```mermaid
stateDiagram-v2
    [*] --> Card: "omat tietoni" / "my data"
    Card --> [*]
```
"""

from __future__ import annotations

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.dialogs.actions import Verb
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.opening import Opening
from bot.dialogs.privacy.cards import my_data_card
from bot.dialogs.replies import send_card, send_text
from bot.dialogs.turn import turn_of
from bot.privacy.service import PrivacyDesk

VERBS = frozenset({Verb.MY_DATA})
COPY_PATH = "/privacy/copy/"


def opening(intent: Intent) -> Opening | None:
    """ "Omat tietoni", typed or pressed, opens one's own data."""
    if intent.kind is IntentKind.MY_DATA or intent.verb is Verb.MY_DATA:
        return Opening(Verb.MY_DATA)
    return None


class MyDataDialog(Dialog):
    """Shows the sender's own data (a payload naming anyone else never gets here: the handler
    refuses it and logs the attempt)."""

    def __init__(self, desk: PrivacyDesk, base_url: str, notice_url: str) -> None:
        super().__init__(MyDataDialog.__name__)
        self._desk = desk
        self._base_url = base_url.rstrip("/")
        self._notice_url = notice_url

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        context = dialog_context.context
        turn = turn_of(context)
        t = turn.texts
        person = turn.sender.aad_object_id
        if not turn.personal:
            await send_text(context, t("privacy.card.private_here"))
            return await dialog_context.end_dialog()
        if not person:
            await send_text(context, t("privacy.card.unknown_person"))
            return await dialog_context.end_dialog()
        mine = await self._desk.my_data(person)
        link = f"{self._base_url}{COPY_PATH}{mine.token}"
        await send_card(context, my_data_card(t, mine, self._desk.policy, link, self._notice_url))
        return await dialog_context.end_dialog()
