"""The one place a failed turn is logged and apologised for."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import ConversationState, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.adapters.state_storage import EtagConflictError
from bot.dialogs.replies import error_invoke_response
from bot.dialogs.turn import texts_of
from bot.telemetry.correlation import correlation_id as current_correlation_id
from bot.telemetry.correlation import new_correlation_id

log = logging.getLogger("bot.turn")


def make_turn_error_handler(
    conversation_state: ConversationState,
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """Log with a correlation id, apologise once in the user's language, reset the dialog."""

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        # The turn's own id (its log lines carry it too), which the apology shows the person.
        correlation_id = current_correlation_id() or new_correlation_id()
        activity = turn_context.activity
        if isinstance(error, EtagConflictError):
            await _answer_concurrent_turn(turn_context, correlation_id)
            return
        # No conversation id: in a 1:1 chat it names the person.
        log.error("turn failed [%s] type=%s", correlation_id, activity.type, exc_info=error)
        try:
            await conversation_state.clear_state(turn_context)
            await conversation_state.save_changes(turn_context, force=True)
        except Exception:
            log.exception("could not reset conversation state [%s]", correlation_id)
        if activity.type == "invoke":
            await _answer_failed_invoke(turn_context, correlation_id)
            return
        if activity.type != "message":
            return
        try:
            apology = texts_of(turn_context)("errors.apology", correlation_id=correlation_id)
            await turn_context.send_activity(MessageFactory.text(apology))
        except Exception:
            log.exception("could not send the apology [%s]", correlation_id)

    return on_turn_error


async def _answer_concurrent_turn(turn_context: TurnContext, correlation_id: str) -> None:
    """Two turns of one conversation raced (a double tap); the other one's state stands."""
    log.warning("concurrent turn lost its state write [%s]", correlation_id)
    if turn_context.activity.type == "message":
        await turn_context.send_activity(MessageFactory.text(texts_of(turn_context)("errors.busy")))


async def _answer_failed_invoke(turn_context: TurnContext, correlation_id: str) -> None:
    """An Action.Execute that failed still gets an answer Teams can show, not a bare 5xx."""
    if turn_context.activity.name != "adaptiveCard/action":
        return
    apology = texts_of(turn_context)("errors.apology", correlation_id=correlation_id)
    response = error_invoke_response(500, "InternalError", apology)
    await turn_context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=response)
        )
    )
