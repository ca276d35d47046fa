"""Text typed while a flow waits: the flow's own input, a question for elsewhere, or neither.

One rule for every flow, so that the dialogs stay thin:

1. A step that expects typed text (a description, a wish) keeps whatever is typed.
2. A question clearly about one other area (one's deductions, the unit's turn, the helpdesk,
   one's tickets) is answered there, and the flow waits. "Clearly": the menu's own words for
   that area, about oneself, and the FAQ matcher not sure of some other topic.
3. Anything else may be a question: answered if the FAQ matcher is sure, else the flow's hint.

Cancelling and the menu are not asides: they end the flow before this rule is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from botbuilder.dialogs import Dialog, DialogContext, DialogReason, DialogTurnResult

from bot.dialogs.intents import Intent, IntentKind
from bot.faq.language import (
    ENGLISH_WORDS,
    FINNISH_WORDS,
    lemma,
    spoken_finnish,
    stem,
    word_set,
    words,
)
from bot.faq.matcher import Match
from bot.faq.service import MATCHED_LENGTH, Asked, FaqDesk
from bot.i18n import SUPPORTED_LANGUAGES, catalog_entry

ASIDE_AREAS: Mapping[IntentKind, str] = {
    IntentKind.MY_DEDUCTIONS: "commands.my_deductions",
    IntentKind.MY_TURN: "commands.my_turn",
    IntentKind.HELPDESK: "commands.helpdesk",
    IntentKind.MY_TICKETS: "commands.my_tickets",
}
# The FAQ topics that are each area's own: when the matcher is sure of another topic, the
# question is about the program, not about one's own figures ("is the phone mine once paid?").
AREA_TOPICS: Mapping[IntentKind, frozenset[str]] = {
    IntentKind.MY_DEDUCTIONS: frozenset({"deduction-period", "free-choice-cost"}),
    IntentKind.MY_TURN: frozenset({"rollout-schedule"}),
    IntentKind.HELPDESK: frozenset({"talk-to-human"}),
    IntentKind.MY_TICKETS: frozenset({"talk-to-human"}),
}
_TYPED = (IntentKind.TEXT, IntentKind.CHOOSE_PHONE, *ASIDE_AREAS)
_SMALL_WORDS = FINNISH_WORDS | ENGLISH_WORDS
FIRST_PERSON = word_set(
    """
    minä minun minulla minulle minulta minua minut minusta me meidän meillä meille meiltä meitä
    meistä oma omat omani omamme haluan haluaisin voinko saanko voisinko tarvitsen olen pääsenkö
    i my me mine our ours we us jag min mitt mina mig vi vår vårt våra oss
    """
)


class Flow:
    """A dialog that waits between turns: which typed text is its own, and how to go on."""

    wait_line = "flow_waits.default"

    def expects_text(self, state: dict[str, Any]) -> bool:
        """Whether the step waiting in `state` asks for typed text; buttons-only by default."""
        return False

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: object = None
    ) -> DialogTurnResult:
        """An area opened above the flow (an aside) has ended: the flow waits where it was."""
        return Dialog.end_of_turn


class Aside(StrEnum):
    """Where typed text goes while a flow waits."""

    FLOW = "flow"  # the flow gets it: its own input, or its hint for text it cannot use
    AREA = "area"  # another area's question: answered there, the flow waits
    ANSWER = "answer"  # a FAQ question the matcher is sure of: answered, the flow waits


@dataclass(frozen=True)
class Routing:
    """Where typed text goes, and what it needs there."""

    aside: Aside
    area: IntentKind | None = None
    asked: Asked | None = None  # the kept question an answer's 👍/👎 belongs to


class AsideRouter:
    """Decides where text typed mid-flow goes, asking the FAQ only when the flow cannot use it."""

    def __init__(self, faq: FaqDesk | None) -> None:
        self._faq = faq

    async def route(
        self, intent: Intent, *, expects_text: bool, asker: str | None
    ) -> Routing | None:
        """None when the message is no typed text a flow could own (buttons, commands)."""
        if intent.kind not in _TYPED:
            return None
        if expects_text:
            return Routing(Aside.FLOW)
        if intent.kind in ASIDE_AREAS:
            return Routing(Aside.AREA, intent.kind)
        if intent.kind is not IntentKind.TEXT:
            return None
        area, match = await self._area_and_match(intent.text)
        if area:
            return Routing(Aside.AREA, area)
        if self._faq and match and match.band == "answer" and match.topic_id is not None:
            return Routing(Aside.ANSWER, asked=await self._faq.keep(match, asker=asker))
        return Routing(Aside.FLOW)

    async def area_of(self, text: str) -> IntentKind | None:
        """The area a question typed outside any flow belongs to, by the same rule."""
        if area_asked(text) is None:
            return None  # the usual case: the questions area matches it, once
        area, _ = await self._area_and_match(text)
        return area

    async def _area_and_match(self, text: str) -> tuple[IntentKind | None, Match | None]:
        """The area asked about, unless the FAQ is sure of a topic that is not that area's own."""
        area = area_asked(text)
        match = await self._faq.match(text) if self._faq else None
        sure = match is not None and match.band == "answer" and match.topic_id is not None
        if area and sure and match and match.topic_id not in AREA_TOPICS[area]:
            area = None
        return area, match


def area_asked(text: str) -> IntentKind | None:
    """The area whose menu words appear in a question about oneself, in any inflection ("paljonko
    minulla on vähennyksiä jäljellä?" -> my deductions); None if none does, or two equally.

    Without "I", "my" or "we" it is a question about the program ("milloin vähennykset
    alkavat?"), which the FAQ answers better than one's own figures. Of several areas, the one
    with the longest phrase wins ("omat tukipyynnöt" is my tickets, not just "tukipyyntö").
    """
    text = text[:MATCHED_LENGTH]  # like the matcher: no question needs more, and it bounds work
    if not _about_oneself(text):
        return None
    typed = {language: _forms(text, language) for language in SUPPORTED_LANGUAGES}
    found: dict[IntentKind, int] = {}
    for language, kind, stems in _area_phrases():
        if stems <= typed[language]:
            found[kind] = max(found.get(kind, 0), len(stems))
    if not found:
        return None
    longest = max(found.values())
    best = [kind for kind, size in found.items() if size == longest]
    return best[0] if len(best) == 1 else None


def _about_oneself(text: str) -> bool:
    """A first-person word, or a Finnish noun with "my"/"our" in its ending ("yksikköni")."""
    typed = [spoken_finnish(word) for word in words(text)]
    return any(
        word in FIRST_PERSON or (len(word) >= 5 and word.endswith(("ni", "mme"))) for word in typed
    )


@cache
def _area_phrases() -> tuple[tuple[str, IntentKind, frozenset[str]], ...]:
    """Each area's command phrases from every catalog, as the stems of their words without the
    small ones ("on", "how"; "my" stays). Short phrases count whole; a longer one needs two
    words beyond the small ones and "my" ("when do I get my phone" says too little)."""
    phrases = []
    for language in SUPPORTED_LANGUAGES:
        for kind, key in ASIDE_AREAS.items():
            for phrase in catalog_entry(language, key):
                kept = [word for word in words(phrase) if word not in _SMALL_WORDS - FIRST_PERSON]
                topical = [word for word in kept if word not in FIRST_PERSON]
                if topical and (len(words(phrase)) <= 2 or len(topical) >= 2):
                    phrases.append((language, kind, frozenset(_stem(w, language) for w in kept)))
    return tuple(phrases)


def _forms(text: str, language: str) -> frozenset[str]:
    """The stems of a text's words and of their dictionary forms ("tukipyynnöt" -> "-pyyntö")."""
    found = set()
    for word in words(text):
        found.add(_stem(word, language))
        found.add(_stem(lemma(word, language), language))
    return frozenset(found)


def _stem(word: str, language: str) -> str:
    return stem(spoken_finnish(word) if language == "fi" else word, language)
