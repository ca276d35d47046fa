"""👍/👎 under an answer: the answer card comes back with a thank-you in place of the buttons."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.dialogs.actions import Verb
from bot.dialogs.questions.cards import answer_card
from bot.dialogs.questions.dialog import QUESTION_ID_KEY, TOPIC_KEY
from bot.dialogs.replies import card_invoke_response, error_invoke_response
from bot.dialogs.turn import turn_of
from bot.faq.service import FaqDesk, Feedback
from bot.numbers import payload_int

log = logging.getLogger(__name__)


class FaqFeedback:
    """Only the asker's vote counts, and only on the topic they were answered."""

    in_place = frozenset({Verb.FAQ_FEEDBACK})

    def __init__(self, faq: FaqDesk) -> None:
        self._faq = faq

    async def on_invoke(
        self, turn_context: TurnContext, verb: Verb, data: dict[str, Any]
    ) -> AdaptiveCardInvokeResponse:
        turn = turn_of(turn_context)
        t = turn.texts
        question, topic, helpful = (
            payload_int(data.get(QUESTION_ID_KEY)),
            data.get(TOPIC_KEY),
            data.get("helpful"),
        )
        if question is None or not isinstance(topic, str) or not isinstance(helpful, bool):
            return error_invoke_response(400, "BadRequest", t("faq.feedback_lost"))
        given = await self._faq.feedback(
            question_id=question,
            topic_id=topic,
            helpful=helpful,
            asker=turn.sender.aad_object_id or "",
        )
        if given is Feedback.NOT_YOURS:
            log.warning("refused feedback on someone else's question")
            return error_invoke_response(403, "Forbidden", t("faq.feedback_not_yours"))
        if given is not Feedback.RECORDED:
            return error_invoke_response(404, "NotFound", t("faq.feedback_lost"))
        topic_shown = self._faq.content.topic(topic)
        return card_invoke_response(answer_card(t, topic_shown, question, helpful=helpful))
