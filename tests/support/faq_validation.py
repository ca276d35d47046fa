"""The blind validation question set (tests/data/faq/validation/): tuning may look at it."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.faq_heldout import HeldOut

VALIDATION = Path(__file__).resolve().parent.parent / "data" / "faq" / "validation"


def validation_questions() -> list[HeldOut]:
    """Every validation question with its topic (None for the off-topic ones)."""
    data = yaml.safe_load((VALIDATION / "questions.yaml").read_text(encoding="utf-8"))
    topical = [
        HeldOut(item["q"], item["lang"], False, False, item["topic"], frozenset())
        for item in data["topics"]
    ]
    off_topic = [
        HeldOut(item["q"], item["lang"], True, item["kind"] == "near_miss", None, frozenset())
        for item in data["off_topic"]
    ]
    return topical + off_topic
