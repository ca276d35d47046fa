"""The frozen, blind held-out question sets (tests/data/faq/heldout*/): totals only, no tuning."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

HELDOUT = Path(__file__).resolve().parent.parent / "data" / "faq" / "heldout"
# Each written blind by writers who saw only the program's description, and labelled by another.
# The second was written when the first had been read after every change for three sessions, the
# third when both had been read after the classifier was added, the fourth when the third had been
# read twice, the fifth when the fourth had been read twice and nine topics were added (its labels
# know the 28 topics; the earlier sets' labels know only the first 19).
SETS = {
    "heldout": HELDOUT,
    "heldout_2": HELDOUT.with_name("heldout-2"),
    "heldout_3": HELDOUT.with_name("heldout-3"),
    "heldout_4": HELDOUT.with_name("heldout-4"),
    "heldout_5": HELDOUT.with_name("heldout-5"),
    # Off-topic messages only, a third of them worded with the program's words.
    "heldout_offtopic": HELDOUT.with_name("heldout-offtopic"),
}
FILES = ("questions.yaml", "labels.yaml")


@dataclass(frozen=True)
class HeldOut:
    text: str
    language: str
    off_topic: bool
    near_miss: bool
    topic: str | None  # the topic that answers it; None: no topic does
    also: frozenset[str]  # other topics that answer it as well

    @property
    def right_topics(self) -> frozenset[str]:
        return self.also | {self.topic} if self.topic else frozenset()


def frozen_digests(folder: Path = HELDOUT) -> dict[str, str]:
    """What a question set's SHA256SUMS says each of its files must hash to."""
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def digest(name: str, folder: Path = HELDOUT) -> str:
    return hashlib.sha256((folder / name).read_bytes()).hexdigest()


def heldout_questions(folder: Path = HELDOUT) -> list[HeldOut]:
    questions = yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8"))
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    if len(questions) != len(labels):
        raise ValueError("questions and labels differ in length")
    return [
        HeldOut(
            text=question["text"],
            language=question["lang"],
            off_topic=question["kind"] == "off_topic",
            near_miss=bool(question.get("near_miss")),
            topic=label["topic"],
            also=frozenset(label.get("also") or ()),
        )
        for question, label in zip(questions, labels, strict=True)
    ]
