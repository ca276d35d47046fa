"""Adaptive Card primitives every area builds its cards from."""

from __future__ import annotations

from typing import Any

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An Adaptive Card 1.5 that fills the width of a Teams message."""
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def proportion_bar(parts: list[tuple[int, str]]) -> dict[str, Any]:
    """Coloured columns as wide as their shares: a progress bar Teams draws on any screen."""
    columns = [
        {"type": "Column", "width": f"{weight}", "style": style, "minHeight": "12px", "items": []}
        for weight, style in parts
        if weight > 0
    ]
    return {"type": "ColumnSet", "columns": columns, "spacing": "Small"}
