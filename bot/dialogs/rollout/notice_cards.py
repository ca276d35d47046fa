"""Cards the bot sends on its own: a unit's window opening, and the reminder before it closes."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.dialogs.actions import Verb, submit
from bot.dialogs.cards import card, text_block
from bot.dialogs.unasked import Unasked
from bot.i18n import Texts
from bot.rollout import campaigns
from bot.rollout.campaigns import WaveNotice


def window_open_card(
    t: Texts, *, wave_id: int, unit: str | None, closes_on: date
) -> dict[str, Any]:
    """'Your unit's turn is now', with Choose / Questions / Remind me later."""
    closes = t.date(closes_on)
    return card(
        [
            text_block(
                t("notify.window_open_title"), size="Large", weight="Bolder", style="heading"
            ),
            text_block(t("notify.window_open", unit=unit or t("notify.your_unit"), closes=closes)),
        ],
        _actions(t, wave_id),
    )


def window_reminder_card(t: Texts, *, wave_id: int, closes_on: date) -> dict[str, Any]:
    """Sent a few days before the window closes to those who have not chosen."""
    closes = t.date(closes_on)
    return card(
        [
            text_block(
                t("notify.reminder_title", closes=closes),
                size="Large",
                weight="Bolder",
                style="heading",
            ),
            text_block(t("notify.reminder", closes=closes)),
        ],
        _actions(t, wave_id),
    )


def _actions(t: Texts, wave_id: int) -> list[dict[str, Any]]:
    return [
        submit(t("notify.choose"), Verb.CHOOSE_PHONE),
        submit(t("notify.questions"), Verb.QUESTIONS),
        submit(t("notify.later"), Verb.REMIND_LATER, wave=wave_id),
    ]


def _window_open(t: Texts, notice: WaveNotice) -> dict[str, Any]:
    unit = notice.unit_name_en if t.language == "en" and notice.unit_name_en else None
    return window_open_card(
        t, wave_id=notice.wave_id, unit=unit or notice.unit_name_fi, closes_on=notice.closes_on
    )


def _window_reminder(t: Texts, notice: WaveNotice) -> dict[str, Any]:
    return window_reminder_card(t, wave_id=notice.wave_id, closes_on=notice.closes_on)


UNASKED = {
    campaigns.WINDOW_OPEN: Unasked(campaigns.window_to_tell, _window_open),
    campaigns.WINDOW_REMINDER: Unasked(campaigns.reminder_to_tell, _window_reminder),
}
