"""The FAQ matcher's independent development question set (tests/data/faq/dev_questions.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEV_QUESTIONS = Path(__file__).resolve().parent.parent / "data" / "faq" / "dev_questions.yaml"
LANGUAGES = ("fi", "en")
TOPIC_IDS = (
    "options-overview",
    "free-choice-cost",
    "deduction-period",
    "ownership-after-payment",
    "new-phone-after-payoff",
    "pori-phone",
    "dual-sim",
    "work-data-at-home",
    "work-profile",
    "after-hours-notifications",
    "webshop-access",
    "catalog",
    "rollout-schedule",
    "broken-or-lost",
    "leaving-employment",
    "why-smartphones",
    "change-choice",
    "existing-phone",
    "talk-to-human",
    "delivery",
    "phone-number",
    "deductions-during-leave",
    "old-work-phone",
    "getting-started",
    "accessories",
    "abroad",
    "tax-and-fees",
    "who-is-included",
)


@cache
def _dev_data() -> dict[str, Any]:
    """The file parsed once per process: the questions and their `also` list share it."""
    loaded = yaml.safe_load(DEV_QUESTIONS.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def dev_questions() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(question, topic_id, language) and off-topic (question, language), in file order."""
    data = _dev_data()
    topical = [
        (question, topic_id, language)
        for topic_id, by_language in data["topics"].items()
        for language in LANGUAGES
        for question in by_language.get(language) or []
    ]
    off_topic = [
        (question, language)
        for language in LANGUAGES
        for question in data["off_topic"].get(language) or []
    ]
    return topical, off_topic


def dev_also() -> dict[str, frozenset[str]]:
    """Questions that another topic's answer answers as well (both share a fact), by question."""
    also = _dev_data().get("also") or {}
    return {question: frozenset(topics) for question, topics in also.items()}
