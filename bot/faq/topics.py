"""The FAQ topics and off-topic phrases of bot/faq/content/topics.yaml, as dataclasses.

Answers are rendered once, when read: each `{fact:key}` becomes the fact as ICT confirmed it or,
until then, the sentence saying ICT will confirm it, and such an answer offers the helpdesk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from bot.faq.facts import ProgramFacts, fact_keys, program_facts
from bot.i18n import Texts

LANGUAGES = ("fi", "en")
HELPDESK = "helpdesk"


@dataclass(frozen=True)
class TopicText:
    """One language's wording of a topic."""

    title: str
    answer: str
    examples: tuple[str, ...]
    unconfirmed: tuple[str, ...] = ()  # the facts the answer says ICT has yet to confirm


@dataclass(frozen=True)
class Topic:
    """A question people ask, its answer, and the phrasings the matcher learns it from."""

    id: str
    follow_ups: tuple[str, ...]
    texts: dict[str, TopicText]

    def text(self, language: str) -> TopicText:
        """The topic in a language, Finnish when that language is missing."""
        return self.texts.get(language) or self.texts["fi"]


@dataclass(frozen=True)
class FaqContent:
    """All topics, in file order, and the negative phrases that are not about the program."""

    topics: tuple[Topic, ...]
    off_topic: dict[str, tuple[str, ...]]

    def topic(self, topic_id: str) -> Topic:
        """One topic by id; KeyError if there is none."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)


@cache
def faq_content() -> FaqContent:
    """The packaged topics, read once."""
    return packaged_content()


def packaged_content(facts: ProgramFacts | None = None) -> FaqContent:
    """The packaged topics, their answers rendered with these facts (else the packaged ones)."""
    text = resources.files("bot.faq.content").joinpath("topics.yaml").read_text(encoding="utf-8")
    return parse_content(yaml.safe_load(text), facts)


def parse_content(data: dict[str, Any], facts: ProgramFacts | None = None) -> FaqContent:
    """Topics and off-topic phrases from the YAML's mapping, answers rendered with the facts
    (the packaged ones unless given)."""
    facts = facts or program_facts()
    topics = tuple(_topic(entry, facts) for entry in data["topics"])
    ids = [topic.id for topic in topics]
    duplicates = sorted({topic_id for topic_id in ids if ids.count(topic_id) > 1})
    if duplicates:
        raise ValueError(f"duplicate FAQ topic ids: {', '.join(duplicates)}")
    off_topic = data.get("off_topic") or {}
    return FaqContent(
        topics=topics,
        off_topic={
            language: tuple(str(phrase) for phrase in off_topic.get(language) or ())
            for language in LANGUAGES
        },
    )


def _topic(entry: dict[str, Any], facts: ProgramFacts) -> Topic:
    texts = {
        language: _text(entry[language], Texts(language, facts))
        for language in LANGUAGES
        if entry.get(language)
    }
    follow_ups = tuple(str(topic_id) for topic_id in entry.get("follow_ups") or ())
    if HELPDESK not in follow_ups and any(text.unconfirmed for text in texts.values()):
        follow_ups += (HELPDESK,)
    return Topic(id=str(entry["id"]), follow_ups=follow_ups, texts=texts)


def _text(entry: dict[str, Any], t: Texts) -> TopicText:
    answer = " ".join(str(entry["answer"]).split())
    return TopicText(
        title=str(entry["title"]).strip(),
        answer=t.with_facts(answer),
        examples=tuple(str(example) for example in entry.get("examples") or ()),
        unconfirmed=tuple(
            key for key in fact_keys(answer) if not t.program_facts.is_confirmed(key)
        ),
    )
