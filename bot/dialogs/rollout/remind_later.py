""" "Remind me later" on the card that says the unit's window is open."""

from __future__ import annotations

from botbuilder.core import TurnContext

from bot.dialogs.actions import Verb
from bot.dialogs.intents import Intent
from bot.dialogs.replies import send_text
from bot.dialogs.turn import turn_of
from bot.numbers import payload_int
from bot.rollout.campaigns import Later, LaterReminders


class RemindLater:
    """Schedules one reminder inside the window, or says why it can't."""

    def __init__(self, reminders: LaterReminders | None) -> None:
        self._reminders = reminders

    @staticmethod
    def owns(intent: Intent) -> bool:
        return intent.verb is Verb.REMIND_LATER

    async def on_message(self, turn_context: TurnContext, intent: Intent) -> None:
        turn = turn_of(turn_context)
        t = turn.texts
        wave_id = payload_int((intent.value or {}).get("wave"))
        answer, at = Later.NOT_POSSIBLE, None
        if self._reminders and turn.contact and wave_id is not None:
            answer, at = await self._reminders.schedule(
                aad_object_id=turn.contact.aad_object_id, wave_id=wave_id
            )
        if answer is Later.SCHEDULED and at is not None:
            await send_text(turn_context, t("notify.later_set", when=t.datetime(at)))
        elif answer is Later.TOO_LATE:
            await send_text(turn_context, t("notify.later_too_late"))
        else:
            await send_text(turn_context, t("notify.later_closed"))
