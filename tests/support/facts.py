"""The packaged program facts with some (or all) of them confirmed, for tests of both renderings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.faq import facts as program
from bot.faq.facts import ProgramFacts
from bot.faq.topics import FaqContent, packaged_content

CONFIRMED_BY = "Testi Testinen, ICT"
CONFIRMED_ON = date(2026, 5, 4)


def packaged() -> ProgramFacts:
    return program.program_facts()


def with_confirmed(*keys: str) -> ProgramFacts:
    """The packaged facts, the named ones (every one when none is named) confirmed."""
    facts = packaged()
    named = set(keys) or {fact.key for fact in facts.facts}
    for key in named:
        facts.fact(key)  # an unknown key fails here, not silently
    return ProgramFacts(
        tuple(
            replace(fact, confirmed=True, confirmed_by=CONFIRMED_BY, confirmed_on=CONFIRMED_ON)
            if fact.key in named
            else fact
            for fact in facts.facts
        )
    )


def all_unconfirmed() -> ProgramFacts:
    return ProgramFacts(
        tuple(
            replace(fact, confirmed=False, confirmed_by=None, confirmed_on=None)
            for fact in packaged().facts
        )
    )


def content_with(facts: ProgramFacts) -> FaqContent:
    """The packaged topics, their answers rendered with these facts."""
    return packaged_content(facts)


def use_facts(monkeypatch: pytest.MonkeyPatch, facts: ProgramFacts) -> ProgramFacts:
    """What a bot started afterwards renders from: every Texts, and the answers it is given."""
    monkeypatch.setattr(program, "program_facts", lambda: facts)
    monkeypatch.setattr("bot.app.faq_content", lambda: content_with(facts))
    return facts
