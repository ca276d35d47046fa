"""The logistic regression the matcher adds to its similarities (bot/faq/classifier.py)."""

from __future__ import annotations

import pytest

from bot.faq.classifier import TopicClassifier


def _classifier(vectors: list[dict[str, float]], labels: list[int], count: int) -> TopicClassifier:
    """A classifier whose features are numbered as the matcher numbers them: by first use."""
    columns: dict[str, int] = {}
    for vector in vectors:
        for feature in vector:
            columns.setdefault(feature, len(columns))
    return TopicClassifier(vectors, labels, count, columns)


def test_a_shared_word_does_not_decide_between_two_topics():
    # "puhelin" is in every phrase of both topics; only "rikki" and "hinta" tell them apart.
    vectors = [
        {"puhelin": 1.0, "rikki": 1.0},
        {"puhelin": 1.0, "rikki": 1.0, "näyttö": 1.0},
        {"puhelin": 1.0, "hinta": 1.0},
        {"puhelin": 1.0, "hinta": 1.0, "paljonko": 1.0},
    ]
    classifier = _classifier(vectors, [0, 0, 1, 1], 2)
    broken, price = classifier.probabilities({"puhelin": 2.0, "rikki": 0.5})
    assert broken > 0.6 > price
    assert classifier.probabilities({"puhelin": 1.0})[0] == pytest.approx(0.5, abs=0.05)


def test_many_labels_sum_to_one_and_unknown_features_count_nothing():
    vectors = [{"a": 1.0}, {"b": 1.0}, {"c": 1.0}, {"a": 1.0, "x": 0.5}]
    classifier = _classifier(vectors, [0, 1, 2, 0], 3)
    likely = classifier.probabilities({"a": 1.0})
    assert sum(likely) == pytest.approx(1.0)
    assert max(likely) == likely[0]
    assert classifier.probabilities({"a": 1.0, "never-seen": 9.0}) == likely


def test_a_label_without_phrases_never_wins():
    classifier = _classifier([{"a": 1.0}, {"b": 1.0}], [0, 2], 4)
    likely = classifier.probabilities({"a": 1.0})
    assert likely[1] == likely[3] == 0.0
    assert likely[0] > likely[2]


def test_one_label_adds_nothing():
    # With nothing to tell apart, it must not vouch for the one topic a language has.
    classifier = _classifier([{"a": 1.0}, {"b": 1.0}], [1, 1], 2)
    assert classifier.probabilities({"a": 1.0}) == [0.0, 0.0]
    assert _classifier([], [], 3).probabilities({}) == [0.0, 0.0, 0.0]


def test_the_fit_is_the_same_every_time():
    vectors = [{"a": 1.0, "b": 0.2}, {"b": 1.0}, {"c": 1.0, "a": 0.3}, {"a": 0.7}]
    first = _classifier(vectors, [0, 1, 2, 0], 3).probabilities({"a": 0.5, "b": 0.5})
    again = _classifier(vectors, [0, 1, 2, 0], 3).probabilities({"a": 0.5, "b": 0.5})
    assert first == again
