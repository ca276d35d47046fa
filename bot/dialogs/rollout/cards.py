"""The 'my unit's turn' card."""

from __future__ import annotations

from typing import Any

from bot.dialogs.actions import Verb, submit
from bot.dialogs.cards import card, text_block
from bot.i18n import Texts
from bot.rollout.service import UnitTurn, WindowState


def my_turn_card(t: Texts, turn: UnitTurn) -> dict[str, Any]:
    body = [text_block(t("my_turn.title"), size="Large", weight="Bolder", style="heading")]
    unit = turn.unit_name_en if t.language == "en" and turn.unit_name_en else turn.unit_name_fi
    if unit:
        body.append(text_block(t("my_turn.unit", unit=unit), isSubtle=True))
    window = turn.window
    dates = {
        "opens": t.date(window.opens_on) if window.opens_on else "",
        "closes": t.date(window.closes_on) if window.closes_on else "",
    }
    if turn.unit_code is None and window.state is not WindowState.NO_WAVES:
        key = "no_unit"
    else:
        key = window.state.value
    body.append(text_block(t(f"my_turn.{key}", **dates)))
    actions = [submit(t("menu.open_menu"), Verb.OPEN_MENU)]
    if window.is_open:
        actions.insert(0, submit(t("menu.choose_phone"), Verb.CHOOSE_PHONE))
    return card(body, actions)
