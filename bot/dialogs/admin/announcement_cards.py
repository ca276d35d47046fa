"""ICT's announcement: the form and the preview's controls (the card its recipients get is the
announcements area's, bot/dialogs/announcements/cards.py)."""

from __future__ import annotations

from typing import Any

from bot.dialogs.actions import Verb, submit
from bot.dialogs.admin.cards import UnitOption
from bot.dialogs.cards import card, text_block
from bot.i18n import Texts

Card = dict[str, Any]


def compose_card(
    t: Texts,
    units: list[UnitOption],
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
    waves: list[UnitOption] | None = None,
    draft_id: int | None = None,
) -> Card:
    """The form: Finnish always, English optional; audience; now or at a time (Helsinki)."""
    form = form or {}
    kept = {"draft": draft_id} if draft_id else {}
    body: list[dict[str, Any]] = [
        text_block(t("announce.title"), size="Large", weight="Bolder", style="heading"),
        text_block(t("announce.hint"), isSubtle=True),
    ]
    if problems:
        body.append(text_block(t("announce.not_ready"), color="Attention", weight="Bolder"))
        body += [
            text_block(f"- {problem}", color="Attention", spacing="None") for problem in problems
        ]
    body += [
        _text_input("title_fi", t("announce.title_fi"), form, max_length=120),
        _text_input("text_fi", t("announce.text_fi"), form, multiline=True, max_length=2000),
        _text_input("title_en", t("announce.title_en"), form, max_length=120),
        _text_input("text_en", t("announce.text_en"), form, multiline=True, max_length=2000),
        _text_input("image_url", t("announce.image_url"), form, max_length=500),
        _text_input("link_title", t("announce.link_title"), form, max_length=80),
        _text_input("link_url", t("announce.link_url"), form, max_length=500),
        _text_input("link2_title", t("announce.link2_title"), form, max_length=80),
        _text_input("link2_url", t("announce.link_url"), form, max_length=500),
        {
            "type": "Input.Toggle",
            "id": "everyone",
            "title": t("announce.everyone"),
            "value": "true" if form.get("everyone") == "true" else "false",
            "valueOn": "true",
            "valueOff": "false",
        },
        {
            "type": "Input.ChoiceSet",
            "id": "units",
            "label": t("announce.units"),
            "isMultiSelect": True,
            "style": "compact",
            "value": form.get("units", ""),
            "choices": [{"title": unit.name, "value": unit.code} for unit in units],
        },
        *(
            [
                {
                    "type": "Input.ChoiceSet",
                    "id": "waves",
                    "label": t("announce.waves"),
                    "isMultiSelect": True,
                    "style": "compact",
                    "value": form.get("waves", ""),
                    "choices": [{"title": wave.name, "value": wave.code} for wave in waves],
                }
            ]
            if waves
            else []
        ),
        _text_input("upns", t("announce.upns"), form, multiline=True, max_length=12000),
        {
            "type": "Input.Date",
            "id": "send_date",
            "label": t("announce.send_date"),
            "value": form.get("send_date", ""),
        },
        {
            "type": "Input.Time",
            "id": "send_time",
            "label": t("announce.send_time"),
            "value": form.get("send_time", ""),
        },
        {
            "type": "Input.Toggle",
            "id": "receipt",
            "title": t("announce.ask_receipt"),
            "value": "true" if form.get("receipt") == "true" else "false",
            "valueOn": "true",
            "valueOff": "false",
        },
        _text_input("remind_days", t("announce.remind_days"), form, max_length=2),
    ]
    return card(
        body,
        [
            submit(t("announce.preview"), Verb.ADMIN_ANNOUNCE_PREVIEW, **kept),
            submit(t("announce.save"), Verb.ADMIN_ANNOUNCE_SAVE, **kept),
        ],
    )


def preview_controls_card(
    t: Texts,
    *,
    recipients: int,
    when: str,
    token: str,
    draft_id: int,
    receipt: str | None = None,
) -> Card:
    """Under the preview: how many it reaches and when, and whether they are asked to
    acknowledge it; send it, or edit it (it is kept as a draft meanwhile)."""
    return card(
        [
            text_block(t("announce.preview_title"), weight="Bolder", size="Medium"),
            text_block(t("announce.reaches", count=recipients)),
            text_block(when),
            *([text_block(receipt)] if receipt else []),
            text_block(t("announce.kept_as_draft"), isSubtle=True, size="Small"),
        ],
        [
            submit(t("announce.send"), Verb.ADMIN_ANNOUNCE_SEND, token=token, draft=draft_id),
            submit(t("announce.edit"), Verb.ADMIN_ANNOUNCE, draft=draft_id),
        ],
    )


def _text_input(
    input_id: str,
    label: str,
    form: dict[str, str],
    *,
    multiline: bool = False,
    max_length: int,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "maxLength": max_length,
        "value": form.get(input_id, "")[:max_length],
    }
    if multiline:
        element["isMultiline"] = True
    return element
