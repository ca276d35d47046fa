"""Every card the bot can send is a valid Adaptive Card 1.5, by Microsoft's own parser and ours."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pkgutil
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.dialogs
from bot.dialogs.actions import VERB_KEY, Verb
from tests.support.card_gallery import card_function_name, every_card
from tests.support.npm import require_npm_package

VALIDATOR = Path(__file__).resolve().parent / "support" / "validate_cards.js"
CARDS = every_card()
CARD_NAMES = [name for name, _ in CARDS]
VERBS = {verb.value for verb in Verb}
MAX_CARD_BYTES = 28_000  # Teams refuses messages over about 28 KB, the card included


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def run_validator(named_cards: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Card name -> the problems Microsoft's `adaptivecards` package finds in it."""
    package_dir = require_npm_package("adaptivecards")
    node = shutil.which("node")
    if node is None:
        message = "node is needed to run the adaptivecards package: install Node.js 20 or later"
        if "CI" in os.environ:
            pytest.fail(f"{message} (CI is set, so this is not skipped)", pytrace=False)
        pytest.skip(message)
    payload = [{"name": name, "card": card} for name, card in named_cards]
    result = subprocess.run(
        [node, str(VALIDATOR), str(package_dir)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"validate_cards.js failed:\n{result.stderr}"
    answers = json.loads(result.stdout)
    assert [answer["name"] for answer in answers] == [name for name, _ in named_cards]
    return {answer["name"]: answer["problems"] for answer in answers}


@pytest.fixture(scope="module")
def microsoft_verdicts() -> dict[str, list[str]]:
    return run_validator(CARDS)


def test_the_gallery_has_every_card_in_every_language():
    """Menu 11, phone 11, deduction 7, turn 3, notification 3, admin 6, FAQ 5, tickets 20,
    announcements 9, privacy 2; three languages."""
    assert len(CARDS) == (11 + 11 + 7 + 3 + 3 + 6 + 5 + 20 + 9 + 2) * 3
    assert len(set(CARD_NAMES)) == len(CARD_NAMES)


def test_every_card_function_is_in_the_gallery():
    """A new `*_card` function in an area's cards module fails here until card_gallery.py
    builds it."""
    card_functions = set()
    for module_info in pkgutil.walk_packages(bot.dialogs.__path__, f"{bot.dialogs.__name__}."):
        if not module_info.name.endswith("cards"):
            continue
        module = importlib.import_module(module_info.name)
        card_functions |= {
            name
            for name, function in inspect.getmembers(module, inspect.isfunction)
            if function.__module__ == module.__name__
            and not name.startswith("_")
            and name.endswith("_card")
        }
    assert card_functions, "found no card functions: have the areas' cards modules moved?"
    assert card_functions - {card_function_name(name) for name in CARD_NAMES} == set()


@pytest.mark.parametrize("name", CARD_NAMES)
def test_microsoft_adaptivecards_finds_no_problems(name, microsoft_verdicts):
    assert microsoft_verdicts[name] == []


# Each broken card is a valid card of ours with one defect, and the problem that must name it.
def _broken(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    card = copy.deepcopy(dict(CARDS)["menu_card[fi]"])
    change(card)
    return card


def _first(card: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(node for node in _nodes(card["body"]) if node.get("type") == kind)


BROKEN_CARDS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown element type": (
        _broken(lambda c: c["body"].append({"type": "TextBlok", "text": "x"})),
        ["UnknownElementType", '"TextBlok"'],
    ),
    "unknown action type": (
        _broken(lambda c: c["actions"].append({"type": "Action.Foo", "title": "x"})),
        ["UnknownActionType", '"Action.Foo"'],
    ),
    "unknown action type in an ActionSet": (
        _broken(
            lambda c: _first(c, "ActionSet")["actions"].append({"type": "Action.Foo", "title": "x"})
        ),
        ["UnknownActionType", '"Action.Foo"'],
    ),
    "invalid enum value": (
        _broken(lambda c: _first(c, "TextBlock").update(size="Huge")),
        ["InvalidPropertyValue", '"Huge"', '"size"'],
    ),
    "duplicate input ids": (
        _broken(
            lambda c: c["body"].extend(
                {"type": "Input.Text", "id": "same", "label": label} for label in ("A", "B")
            )
        ),
        ["DuplicateId", '"same"'],
    ),
    "declared version 1.6": (
        _broken(lambda c: c.update(version="1.6")),
        ["Version", '"1.6"'],
    ),
    "element newer than 1.5": (
        _broken(lambda c: c["body"].append({"type": "Carousel", "pages": []})),
        ["UnknownElementType", '"Carousel"'],
    ),
    "property newer than 1.5": (
        _broken(lambda c: c["actions"][0].update(role="Button")),
        ["UnsupportedProperty", '"role"', "1.6"],
    ),
    "version the library does not know": (
        _broken(lambda c: c.update(version="1.7")),
        ["UnsupportedCardVersion", "1.7"],
    ),
    "misspelt property": (
        _broken(lambda c: _first(c, "TextBlock").update(wieght="Bolder")),
        ["UnknownProperty", '"wieght"', "TextBlock"],
    ),
    "not an AdaptiveCard": (
        _broken(lambda c: c.update(type="Card")),
        ["MissingCardType"],
    ),
}


@pytest.fixture(scope="module")
def broken_verdicts() -> dict[str, list[str]]:
    return run_validator([(name, card) for name, (card, _) in BROKEN_CARDS.items()])


@pytest.mark.parametrize("defect", BROKEN_CARDS)
def test_the_validator_catches(defect, broken_verdicts):
    _, expected = BROKEN_CARDS[defect]
    problems = broken_verdicts[defect]
    assert any(all(part in problem for part in expected) for problem in problems), problems


# Our own checks, in Python, over the same gallery.
def our_problems(card: dict[str, Any]) -> list[str]:
    problems = []
    if card.get("version") != "1.5":
        problems.append(f"version is {card.get('version')!r}, not '1.5'")
    if not card.get("$schema"):
        problems.append("no $schema")
    for node in _nodes(card):
        kind = node.get("type")
        if kind == "Action.Submit":
            data = node.get("data")
            if not isinstance(data, dict) or data.get(VERB_KEY) not in VERBS:
                problems.append(f"Action.Submit {node.get('title')!r} has no known verb: {data!r}")
        elif kind == "Action.Execute" and node.get("verb") not in VERBS:
            problems.append(
                f"Action.Execute {node.get('title')!r} has unknown verb {node.get('verb')!r}"
            )
        elif kind == "TextBlock":
            text = node.get("text")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"TextBlock with empty text: {node!r}")
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size >= MAX_CARD_BYTES:
        problems.append(f"{size} bytes of JSON, Teams allows about {MAX_CARD_BYTES}")
    return problems


@pytest.mark.parametrize(("name", "card"), CARDS, ids=CARD_NAMES)
def test_our_own_checks_find_no_problems(name, card):
    assert our_problems(card) == []


def test_our_own_checks_catch_what_they_look_for():
    card = copy.deepcopy(dict(CARDS)["language_card[fi]"])
    del card["$schema"]
    card["version"] = "1.6"
    card["body"][0]["text"] = " "
    card["actions"][0]["verb"] = "menu.opne"
    card["actions"].append({"type": "Action.Submit", "title": "x", "data": "menu.open"})
    card["actions"].append({"type": "Action.Submit", "title": "y", "data": {"verb": "nope"}})
    card["body"].append({"type": "TextBlock", "text": "x" * MAX_CARD_BYTES})
    assert len(our_problems(card)) == 7
