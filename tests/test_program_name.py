"""The program's name is "Free Choice" in Finnish too, as the city and the Tiera web shop write it;
"vapaavalinta" stays a word the bot understands, never one it writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.faq.matcher import default_matcher
from bot.faq.topics import faq_content

ROOT = Path(__file__).resolve().parent.parent
OLD_NAME = "vapaavalin"


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, path)
    elif isinstance(node, str):
        yield path, node


def test_finnish_texts_say_free_choice():
    catalog = yaml.safe_load((ROOT / "bot" / "locales" / "fi.yaml").read_text(encoding="utf-8"))
    written = [
        (path, text)
        for path, text in strings(catalog)
        if not path.startswith(".commands.") and OLD_NAME in text.casefold()
    ]
    assert written == []
    for topic in faq_content().topics:
        finnish = topic.texts["fi"]
        assert OLD_NAME not in (finnish.title + finnish.answer).casefold(), topic.id
    manifest = json.loads((ROOT / "manifest" / "manifest.template.json").read_text("utf-8"))
    assert OLD_NAME not in json.dumps(manifest, ensure_ascii=False).casefold()


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Mikä se Free Choice oikein on?", "options-overview"),
        ("Paljonko Free Choice -puhelin maksaa?", "free-choice-cost"),
        ("paljonko vapaavalinta maksaa", "free-choice-cost"),
    ],
)
def test_both_names_are_understood(question, topic):
    assert default_matcher().match(question).topic_id == topic
