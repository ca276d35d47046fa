"""The FAQ development set stays usable as a measurement: complete, balanced, unambiguous."""

from __future__ import annotations

import re
from collections import Counter

import yaml

from tests.support.faq_dev import DEV_QUESTIONS, LANGUAGES, TOPIC_IDS, dev_also, dev_questions

MIN_PER_TOPIC = {"fi": 7, "en": 3}
MIN_OFF_TOPIC = {"fi": 40, "en": 20}


def normalized(question: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", question.casefold()).split())


def test_file_has_exactly_the_topics_and_languages():
    data = yaml.safe_load(DEV_QUESTIONS.read_text(encoding="utf-8"))
    assert set(data) == {"topics", "off_topic", "also"}
    assert list(data["topics"]) == list(TOPIC_IDS)
    for by_language in [*data["topics"].values(), data["off_topic"]]:
        assert set(by_language) == set(LANGUAGES)


def test_every_topic_has_enough_questions_in_both_languages():
    topical, _ = dev_questions()
    counts = Counter((topic_id, language) for _, topic_id, language in topical)
    for topic_id in TOPIC_IDS:
        for language, minimum in MIN_PER_TOPIC.items():
            assert counts[topic_id, language] >= minimum, (topic_id, language)


def test_enough_off_topic_questions():
    _, off_topic = dev_questions()
    counts = Counter(language for _, language in off_topic)
    for language, minimum in MIN_OFF_TOPIC.items():
        assert counts[language] >= minimum, language


def test_questions_are_non_empty_strings():
    topical, off_topic = dev_questions()
    for question, *_ in [*topical, *off_topic]:
        assert isinstance(question, str)
        assert question.strip() == question
        assert question


def test_no_question_is_shared_between_topics_or_with_off_topic():
    topical, off_topic = dev_questions()
    owners: dict[str, set[str]] = {}
    for question, topic_id, _ in topical:
        owners.setdefault(normalized(question), set()).add(topic_id)
    for question, _ in off_topic:
        owners.setdefault(normalized(question), set()).add("off_topic")
    assert {question: topics for question, topics in owners.items() if len(topics) > 1} == {}


def test_no_question_appears_twice():
    topical, off_topic = dev_questions()
    everything = [question for question, *_ in topical] + [question for question, _ in off_topic]
    assert [q for q, n in Counter(map(normalized, everything)).items() if n > 1] == []


def test_also_names_topic_questions_and_other_topics_only():
    topical, _ = dev_questions()
    own = {question: topic_id for question, topic_id, _ in topical}
    for question, topics in dev_also().items():
        assert question in own, question
        assert topics <= set(TOPIC_IDS) - {own[question]}, question
