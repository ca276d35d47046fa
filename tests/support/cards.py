"""Read the bot's replies the way a person would: texts, card texts and button data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def cards(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        attachment["content"]
        for reply in replies
        for attachment in reply.get("attachments") or []
        if attachment.get("contentType") == ADAPTIVE
    ]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def all_text(replies: list[dict[str, Any]]) -> str:
    """Every message text, TextBlock and fact, joined, for 'the user sees X' assertions."""
    parts = [reply.get("text") or "" for reply in replies]
    for card in cards(replies):
        for node in _walk(card):
            if node.get("type") == "TextBlock":
                parts.append(node["text"])
            elif node.get("type") == "FactSet":
                parts += [f"{fact['title']}: {fact['value']}" for fact in node["facts"]]
    return "\n".join(part for part in parts if part)


def buttons(replies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Button title -> the data Teams would send back when it is pressed."""
    found = {}
    for card in cards(replies):
        for node in _walk(card):
            if node.get("type") == "Action.Submit":
                found[node["title"]] = {k: v for k, v in node["data"].items() if k != "msteams"}
    return found


def executes(replies: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Action.Execute title -> (verb, data) the invoke would carry."""
    found = {}
    for card in cards(replies):
        for node in _walk(card):
            if node.get("type") == "Action.Execute" and "title" in node:  # not the refresh
                found[node["title"]] = (node["verb"], node.get("data") or {})
    return found
