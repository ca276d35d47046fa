"""The FAQ topics and off-topic phrases of bot/faq/content/topics.yaml, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("fi", "en")


@dataclass(frozen=True)
class TopicText:
    """One language's wording of a topic."""

    title: str
    answer: str
    examples: tuple[str, ...]


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
    text = resources.files("bot.faq.content").joinpath("topics.yaml").read_text(encoding="utf-8")
    return parse_content(yaml.safe_load(text))


def parse_content(data: dict[str, Any]) -> FaqContent:
    """Topics and off-topic phrases from the YAML's mapping."""
    topics = tuple(_topic(entry) for entry in data["topics"])
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


def _topic(entry: dict[str, Any]) -> Topic:
    texts = {
        language: TopicText(
            title=str(entry[language]["title"]).strip(),
            answer=str(entry[language]["answer"]).strip(),
            examples=tuple(str(example) for example in entry[language].get("examples") or ()),
        )
        for language in LANGUAGES
        if entry.get(language)
    }
    return Topic(
        id=str(entry["id"]),
        follow_ups=tuple(str(topic_id) for topic_id in entry.get("follow_ups") or ()),
        texts=texts,
    )
