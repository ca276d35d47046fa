"""The one place a failed turn is logged and apologised for."""

from __future__ import annotations

import logging
import uuid

from botbuilder.core import ConversationState, MessageFactory, TurnContext

from bot.dialogs.context import texts_of

log = logging.getLogger("bot.turn")


def make_turn_error_handler(conversation_state: ConversationState):  # type: ignore[no-untyped-def]
    """Log with a correlation id, apologise once in the user's language, reset the dialog."""

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        correlation_id = uuid.uuid4().hex[:12]
        activity = turn_context.activity
        log.error(
            "turn failed [%s] type=%s conversation=%s",
            correlation_id,
            activity.type,
            activity.conversation.id if activity.conversation else None,
            exc_info=error,
        )
        try:
            await conversation_state.delete(turn_context)
        except Exception:
            log.exception("could not reset conversation state [%s]", correlation_id)
        if activity.type != "message":
            return
        try:
            apology = texts_of(turn_context)("errors.apology", correlation_id=correlation_id)
            await turn_context.send_activity(MessageFactory.text(apology))
        except Exception:
            log.exception("could not send the apology [%s]", correlation_id)

    return on_turn_error
