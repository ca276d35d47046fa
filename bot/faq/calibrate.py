"""Choose the matcher's confidence constants by cross-validation over the training phrases.

Run `python -m bot.faq.calibrate` after editing topics.yaml and copy the printed constants into
bot/faq/matcher.py. Only topics.yaml is used: each fold holds out a tenth of each language's titles,
examples and off-topic phrases (answers always stay in training), so nothing is tuned to the
development questions.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from bot.faq.matcher import OFF_TOPIC, FaqMatcher, Scores, Tuning, training_phrases
from bot.faq.topics import FaqContent, faq_content

FOLDS = 10
TEMPERATURES = (0.05, 0.08, 0.1, 0.15, 0.2, 0.3)
UNKNOWN_SCORES = tuple(value / 100 for value in range(5, 61, 2))
OFF_TOPIC_UNKNOWN = 0.8
RUNNER_UP_SHARES = (0.85, 0.9, 0.93, 0.96, 0.98, 1.0)


@dataclass(frozen=True)
class HeldOut:
    """One held-out training phrase, its label and how the rest scored it."""

    label: str
    scores: Scores

    @property
    def off_topic(self) -> bool:
        return self.label == OFF_TOPIC


@dataclass(frozen=True)
class Fold:
    """One fold of one language: the phrases held out, and what the rest trains on."""

    language: str
    held: list[tuple[str, str]]  # (label, phrase), in the phrases' own order
    phrases: dict[str, list[tuple[str, str]]]  # training phrases per language, without `held`
    topic_ids: list[str]


def folds(content: FaqContent, seed: int = 1) -> Iterator[Fold]:
    """A tenth of each language's titles, examples and off-topic phrases held out at a time;
    answer sentences always stay in training."""
    answers = training_phrases(content, answers=True)
    plain = training_phrases(content, answers=False)
    topic_ids = [topic.id for topic in content.topics]
    for language, items in plain.items():
        order = list(range(len(items)))
        random.Random(seed).shuffle(order)
        answer_only = [item for item in answers[language] if item not in items]
        for fold in range(FOLDS):
            held = set(order[fold::FOLDS])
            phrases = dict(answers)
            phrases[language] = [
                item for number, item in enumerate(items) if number not in held
            ] + answer_only
            yield Fold(language, [items[number] for number in sorted(held)], phrases, topic_ids)


def held_out(content: FaqContent, tuning: Tuning, seed: int = 1) -> list[HeldOut]:
    """Every title, example and off-topic phrase, scored by a matcher trained without it."""
    found: list[HeldOut] = []
    for fold in folds(content, seed):
        matcher = FaqMatcher(fold.phrases, fold.topic_ids, tuning)
        for label, text in fold.held:
            found.append(HeldOut(label, matcher.scores(text, fold.language)))
    return found


def fit_confidence(rows: Sequence[HeldOut], tuning: Tuning) -> Tuning:
    """Temperature and unknown score that best predict whether the best topic is right."""
    best: tuple[float, Tuning] | None = None
    for temperature in TEMPERATURES:
        for unknown in UNKNOWN_SCORES:
            candidate = replace(tuning, temperature=temperature, unknown_score=unknown)
            matcher = _scorer(candidate)
            likelihood = 0.0
            for row in rows:
                topic_id, score = row.scores.best()
                p = min(max(matcher.confidence(score, row.scores.off_topic), 1e-9), 1 - 1e-9)
                likelihood += math.log(p if topic_id == row.label else 1 - p)
            if best is None or likelihood > best[0]:
                best = (likelihood, candidate)
    assert best is not None
    return best[1]


def rates(rows: Sequence[HeldOut], tuning: Tuning) -> dict[str, float]:
    """Shares of held-out topic phrases answered or suggested right, off-topic ones not answered."""
    matcher = _scorer(tuning)
    topical = [row for row in rows if not row.off_topic]
    off_topic = [row for row in rows if row.off_topic]
    answered = wrong = suggested = refused = unknown = 0
    for row in rows:
        match = matcher.decide("", "", row.scores)
        if row.off_topic:
            refused += match.band != "answer"
            unknown += match.band == "unknown"
        elif match.band == "answer":
            answered += match.topic_id == row.label
            wrong += match.topic_id != row.label
        elif match.band == "suggest":
            suggested += row.label in [topic_id for topic_id, _ in match.candidates]
    return {
        "answered_right": answered / len(topical),
        "answered_wrong": wrong / len(topical),
        "suggested_right": suggested / len(topical),
        "off_topic_refused": refused / len(off_topic),
        "off_topic_unknown": unknown / len(off_topic),
    }


def choose_thresholds(rows: Sequence[HeldOut], tuning: Tuning) -> Tuning:
    """ANSWER_AT and RUNNER_UP maximising right answers, minus wrong ones, plus refused off-topic.

    A wrong answer counts against as much as a right one counts for: "I don't know" is better.
    SUGGEST_AT is then set above most off-topic phrases.
    """
    steps = [value / 100 for value in range(5, 96)]

    def answer_quality(setting: tuple[float, float]) -> float:
        at, runner_up = setting
        result = rates(rows, replace(tuning, answer_at=at, suggest_at=0.0, runner_up=runner_up))
        return result["answered_right"] - result["answered_wrong"] + result["off_topic_refused"]

    answer_at, runner_up = max(
        ((at, share) for at in steps for share in RUNNER_UP_SHARES), key=answer_quality
    )
    tuning = replace(tuning, runner_up=runner_up)

    matcher = _scorer(tuning)
    off_topic = sorted(
        matcher.confidence(row.scores.best()[1], row.scores.off_topic)
        for row in rows
        if row.off_topic
    )
    suggest_at = off_topic[math.ceil(len(off_topic) * OFF_TOPIC_UNKNOWN) - 1] + 0.005
    return replace(tuning, answer_at=answer_at, suggest_at=round(min(suggest_at, answer_at), 2))


def calibrate(content: FaqContent | None = None) -> tuple[Tuning, dict[str, float]]:
    """The confidence constants for matcher.py and their held-out rates."""
    content = content or faq_content()
    rows = held_out(content, Tuning())
    tuning = choose_thresholds(rows, fit_confidence(rows, Tuning()))
    return tuning, rates(rows, tuning)


def _scorer(tuning: Tuning) -> FaqMatcher:
    return FaqMatcher({}, [], tuning)


def main() -> None:
    tuning, result = calibrate()
    print(
        f"TEMPERATURE = {tuning.temperature}\nUNKNOWN_SCORE = {tuning.unknown_score}\n"
        f"ANSWER_AT = {tuning.answer_at}\nSUGGEST_AT = {tuning.suggest_at}\n"
        f"RUNNER_UP = {tuning.runner_up}"
    )
    print(json.dumps(_rounded(result)))


def _rounded(result: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 3) for key, value in result.items()}


if __name__ == "__main__":
    main()
