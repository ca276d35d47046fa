"""The "acknowledge as read" press on an announcement: the card comes back acknowledged."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.announcements.receipts import ReceiptDesk, ReceiptState
from bot.dialogs.actions import Verb
from bot.dialogs.announcements.cards import sent_announcement_card
from bot.dialogs.replies import card_invoke_response, error_invoke_response
from bot.dialogs.turn import turn_of
from bot.numbers import payload_int

log = logging.getLogger(__name__)

VERBS = frozenset({Verb.ANNOUNCEMENT_ACKNOWLEDGE})


class AnnouncementReceipts:
    """Only a recipient's press counts, once; anyone else is told so and nothing is kept."""

    in_place = VERBS

    def __init__(self, desk: ReceiptDesk) -> None:
        self._desk = desk

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        turn = turn_of(turn_context)
        t = turn.texts
        campaign = payload_int(data.get("campaign"))
        if campaign is None:
            return error_invoke_response(400, "BadRequest", t("announce.receipt_lost"))
        receipt = await self._desk.acknowledge(campaign, turn.sender.aad_object_id or "")
        if receipt.state is ReceiptState.NOT_RECIPIENT:
            log.warning("refused a receipt on an announcement its sender did not get")
            return error_invoke_response(403, "Forbidden", t("announce.receipt_not_yours"))
        if receipt.announcement is None:
            return error_invoke_response(404, "NotFound", t("announce.receipt_lost"))
        return card_invoke_response(sent_announcement_card(t, receipt.announcement))
