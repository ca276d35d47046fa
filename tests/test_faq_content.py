"""The FAQ content ICT edits stays complete, well formed and free of invented contact details."""

from __future__ import annotations

import re
from collections import Counter
from importlib import resources
from typing import Any

import pytest
import yaml

from tests.support.facts import all_unconfirmed, content_with, with_confirmed
from tests.support.faq_dev import TOPIC_IDS

FOLLOW_UPS = {"choose_phone", "my_deductions", "my_turn", "helpdesk"}
MIN_EXAMPLES = {"fi": 10, "en": 5}
MIN_OFF_TOPIC = {"fi": 30, "en": 15}
URL = re.compile(r"https?://|www\.|\b[\w-]+\.(fi|com|net|org|io)\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+")
PHONE_NUMBER = re.compile(r"\+\d|\d[\d \-]{5,}\d")
MONEY = re.compile(r"€|\beur(o|oa|oja|ua)?\b|\d+,\d\d", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](\s|$)")


def content() -> dict[str, Any]:
    text = resources.files("bot.faq.content").joinpath("topics.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def topics() -> list[dict[str, Any]]:
    return content()["topics"]


def by_id(topic_id: str) -> dict[str, Any]:
    return next(topic for topic in topics() if topic["id"] == topic_id)


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def test_file_loads_with_topics_and_off_topic_only():
    assert set(content()) == {"topics", "off_topic"}


def test_every_topic_id_is_present_exactly_once():
    ids = [topic["id"] for topic in topics()]
    assert Counter(ids) == Counter(TOPIC_IDS)


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_topic_has_both_languages_complete(topic_id):
    topic = by_id(topic_id)
    assert set(topic) == {"id", "follow_ups", "fi", "en"}
    for language, minimum in MIN_EXAMPLES.items():
        entry = topic[language]
        assert set(entry) == {"title", "answer", "examples"}, language
        assert isinstance(entry["title"], str)
        assert 0 < len(entry["title"]) <= 60, entry["title"]
        assert isinstance(entry["answer"], str)
        examples = entry["examples"]
        assert all(isinstance(example, str) and example.strip() for example in examples)
        assert len(examples) >= minimum, (language, len(examples))


@pytest.mark.parametrize(
    "facts", [all_unconfirmed, with_confirmed], ids=["unconfirmed", "confirmed"]
)
def test_answers_are_two_to_five_sentences_with_facts_confirmed_or_not(facts):
    for topic in content_with(facts()).topics:
        for language in MIN_EXAMPLES:
            answer = topic.text(language).answer
            assert 2 <= len(SENTENCE_END.findall(answer)) <= 5, answer


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_follow_ups_name_bot_features(topic_id):
    follow_ups = by_id(topic_id)["follow_ups"]
    assert follow_ups, topic_id
    assert set(follow_ups) <= FOLLOW_UPS
    assert len(set(follow_ups)) == len(follow_ups)


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_answers_invent_no_addresses_numbers_or_prices(topic_id):
    topic = by_id(topic_id)
    for language in MIN_EXAMPLES:
        for text in (topic[language]["title"], topic[language]["answer"]):
            assert not URL.search(text), text
            assert not EMAIL.search(text), text
            assert not PHONE_NUMBER.search(text), text
            assert not MONEY.search(text), text


def test_contact_detail_patterns_catch_what_they_should():
    assert URL.search("katso www.pori.fi") and URL.search("see https://example.org")
    assert EMAIL.search("tuki@pori.fi")
    assert PHONE_NUMBER.search("soita 02 621 1000") and PHONE_NUMBER.search("+358 2 621")
    assert MONEY.search("hinta 199 €") and MONEY.search("costs 12,50")
    assert not PHONE_NUMBER.search("24 kuukauden aikana")


def test_off_topic_has_enough_questions_in_both_languages():
    off_topic = content()["off_topic"]
    assert set(off_topic) == set(MIN_OFF_TOPIC)
    for language, minimum in MIN_OFF_TOPIC.items():
        questions = off_topic[language]
        assert all(isinstance(question, str) and question.strip() for question in questions)
        assert len(questions) >= minimum, language


def test_no_example_appears_twice_anywhere():
    phrases = [
        example
        for topic in topics()
        for language in MIN_EXAMPLES
        for example in topic[language]["examples"]
    ]
    phrases += [question for questions in content()["off_topic"].values() for question in questions]
    repeated = [text for text, count in Counter(map(normalised, phrases)).items() if count > 1]
    assert repeated == []
