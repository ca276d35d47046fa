"""Questions and answers: free text is matched to a topic, and the confidence decides the reply.

```mermaid
stateDiagram-v2
    [*] --> AskCard: menu "Kysymykset"
    [*] --> Match: any typed question
    Match --> Answer: sure (answer band)
    Match --> Suggestions: unsure (closest questions as buttons)
    Match --> DontKnow: not about the program (helpdesk offered)
    [*] --> Answer: suggestion or common question pressed
    Answer --> [*]
    Suggestions --> [*]
    DontKnow --> [*]
    AskCard --> [*]
```
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.dialogs.actions import Verb
from bot.dialogs.intents import Intent, IntentKind
from bot.dialogs.opening import Opening
from bot.dialogs.questions.cards import answer_card, ask_card, suggestions_card, unknown_card
from bot.dialogs.replies import send_card
from bot.dialogs.turn import turn_of
from bot.faq.service import FaqDesk

QUESTION_KEY = "question"  # typed text
QUESTION_ID_KEY = "question_id"  # the kept question an answer card's feedback belongs to
TOPIC_KEY = "topic"
VERBS = frozenset({Verb.QUESTIONS, Verb.FAQ_TOPIC, Verb.FAQ_FEEDBACK})
COMMON_TOPICS = ("options-overview", "free-choice-cost", "rollout-schedule", "broken-or-lost")


def opening(intent: Intent) -> Opening | None:
    """Anything typed that is not a command is a question, whatever was going on before; a
    suggested topic pressed opens its answer."""
    if intent.kind is IntentKind.TEXT:
        return Opening(Verb.QUESTIONS, {QUESTION_KEY: intent.text})
    if intent.verb is Verb.FAQ_TOPIC:
        return Opening(Verb.QUESTIONS, {TOPIC_KEY: (intent.value or {}).get(TOPIC_KEY)})
    if intent.verb is Verb.QUESTIONS:
        return Opening(Verb.QUESTIONS)
    return None


class QuestionsDialog(Dialog):
    def __init__(self, desk: FaqDesk) -> None:
        super().__init__(QuestionsDialog.__name__)
        self._desk = desk

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        turn = dialog_context.context
        t = turn_of(turn).texts
        given: dict[str, Any] = options if isinstance(options, dict) else {}
        content = self._desk.content
        known = {topic.id: topic for topic in content.topics}
        asker = turn_of(turn).sender.aad_object_id
        if isinstance(given.get(QUESTION_KEY), str) and given[QUESTION_KEY].strip():
            asked = await self._desk.ask(given[QUESTION_KEY], asker=asker)
            match = asked.match
            if match.band == "answer" and match.topic_id in known:
                topic = known[match.topic_id]
                card = answer_card(t, topic, asked.question_id, asked=match.question)
            elif match.band == "suggest":
                closest = [known[topic_id] for topic_id, _ in match.candidates if topic_id in known]
                card = suggestions_card(t, closest, match.question)
            else:
                card = unknown_card(t, match.question)
        elif isinstance(given.get(TOPIC_KEY), str) and given[TOPIC_KEY] in known:
            # Picked from a list or the suggestions: a question of its own, asked by the sender.
            topic = known[given[TOPIC_KEY]]
            question = await self._desk.chosen(topic.id, t.language, asker=asker)
            card = answer_card(t, topic, question)
        else:
            card = ask_card(t, [known[topic_id] for topic_id in COMMON_TOPICS if topic_id in known])
        await send_card(turn, card)
        return await dialog_context.end_dialog()
