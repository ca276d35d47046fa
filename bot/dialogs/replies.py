"""Send a card or a text as the bot's reply."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity


def card_activity(content: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(content))


async def send_card(turn_context: TurnContext, content: dict[str, Any]) -> None:
    await turn_context.send_activity(card_activity(content))


async def send_text(turn_context: TurnContext, text: str) -> None:
    await turn_context.send_activity(MessageFactory.text(text))
