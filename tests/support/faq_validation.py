"""The blind validation question sets (tests/data/faq/validation/): tuning may look at them."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.faq_heldout import HeldOut

VALIDATION = Path(__file__).resolve().parent.parent / "data" / "faq" / "validation"
# Each set was written blind by another writer; the second after the first had been tuned on.
SETS = {"validation": "questions.yaml", "validation_2": "questions-2.yaml"}


def validation_questions(name: str = "validation") -> list[HeldOut]:
    """Every question of one validation set with its topic (None for the off-topic ones)."""
    path = VALIDATION / SETS[name]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    topical = [
        HeldOut(item["q"], item["lang"], False, False, item["topic"], frozenset())
        for item in data["topics"]
    ]
    off_topic = [
        HeldOut(item["q"], item["lang"], True, item["kind"] == "near_miss", None, frozenset())
        for item in data["off_topic"]
    ]
    return topical + off_topic
