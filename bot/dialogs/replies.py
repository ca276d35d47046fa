"""Send a card or a text as the bot's reply."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
INVOKE_ERROR = "application/vnd.microsoft.error"


def card_activity(content: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(content))


async def send_card(turn_context: TurnContext, content: dict[str, Any]) -> None:
    await turn_context.send_activity(card_activity(content))


async def send_text(turn_context: TurnContext, text: str) -> None:
    await turn_context.send_activity(MessageFactory.text(text))


def card_invoke_response(content: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    """Answer to an Action.Execute: this card replaces the one the user pressed."""
    return AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=content)


def error_invoke_response(status: int, code: str, message: str) -> AdaptiveCardInvokeResponse:
    """Answer to an Action.Execute that Teams shows as an error under the card."""
    return AdaptiveCardInvokeResponse(
        status_code=status, type=INVOKE_ERROR, value={"code": code, "message": message}
    )
