"""The 'my deductions' card: an employee's own figures, readable at a glance on a phone."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.deductions import service as deductions
from bot.deductions.ledger import add_months
from bot.deductions.service import DeductionKind, MyDeductions, Notice
from bot.dialogs.actions import Verb, submit
from bot.dialogs.cards import card, proportion_bar, text_block
from bot.dialogs.unasked import Unasked
from bot.faq.facts import FIRST_DEDUCTION_TIMING, MISSED_DEDUCTION_MOVES_END
from bot.i18n import Texts


def deductions_card(t: Texts, mine: MyDeductions) -> dict[str, Any]:
    title = text_block(t("deductions.title"), size="Large", weight="Bolder", style="heading")
    menu = submit(t("menu.open_menu"), Verb.OPEN_MENU)
    if mine.kind is not DeductionKind.PAYING or mine.status is None or mine.terms is None:
        actions = [menu]
        if mine.kind in (DeductionKind.NO_CHOICE, DeductionKind.PAID_OFF):
            actions.insert(0, submit(t("menu.choose_phone"), Verb.CHOOSE_PHONE))
        return card([title, text_block(_plain_answer(t, mine))], actions)
    status, terms = mine.status, mine.terms
    facts = [
        (t("deductions.phone"), mine.model_name or ""),
        (t("deductions.total"), t.money(terms.total_cents)),
        (t("deductions.paid"), t.money(status.paid_cents)),
        (t("deductions.remaining"), t.money(status.remaining_cents)),
        (t("deductions.instalments_left"), str(status.instalments_left)),
    ]
    if status.next_month is not None:
        facts.append((t("deductions.next_month"), t.month(status.next_month)))
    end_confirmed = not status.end_moved or t.fact_confirmed(MISSED_DEDUCTION_MOVES_END)
    if status.last_month is not None and end_confirmed:
        # A moved end is shown only once ICT has confirmed that a missed month moves it.
        facts.append((t("deductions.yours_from"), t.month(_after(status.last_month))))
    percent = status.paid_cents * 100 // terms.total_cents if terms.total_cents else 100
    body = [
        title,
        _progress_bar(percent),
        text_block(t("deductions.progress", percent=percent), size="Small", spacing="Small"),
        {
            "type": "FactSet",
            "facts": [{"title": name, "value": value} for name, value in facts],
        },
    ]
    if status.end_moved and status.last_month is not None:
        months = ", ".join(f"{month.month}/{month.year}" for month in status.missed_months)
        missed = t("deductions.missed", months=months)
        if end_confirmed:
            last = t.month(status.last_month, "inessive")
            missed += " " + t("deductions.missed_last", month_in=last)
        body.append(text_block(missed, color="Attention", spacing="Medium"))
    return card(body, [menu])


def _plain_answer(t: Texts, mine: MyDeductions) -> str:
    if mine.kind is DeductionKind.NOT_DELIVERED:
        text = t("deductions.not_delivered", model=mine.model_name or "")
        if mine.first_month and t.fact_confirmed(FIRST_DEDUCTION_TIMING):
            text += " " + t("deductions.planned_first", month=t.month(mine.first_month))
        return text
    if mine.kind in (DeductionKind.PAID_OFF, DeductionKind.NO_SHARE):
        return t(f"deductions.{mine.kind.value}", model=mine.model_name or "")
    return t(f"deductions.{mine.kind.value}")


def _progress_bar(percent: int) -> dict[str, Any]:
    """Two coloured columns whose widths are the paid and unpaid parts."""
    paid = max(min(percent, 100), 0)
    return {**proportion_bar([(paid, "good"), (100 - paid, "emphasis")]), "spacing": "Medium"}


def _after(month: date) -> date:
    """The phone is the employee's from the month after the last deduction."""
    return add_months(month, 1)


def notice_card(t: Texts, notice: Notice) -> dict[str, Any]:
    """A life event: sent by the outbox, or told at the next message if that comes first."""
    model = str(notice.payload.get("model_name") or "")
    return card(
        [text_block(t(f"deductions.notice.{notice.kind}", model=model), weight="Bolder")],
        [submit(t("menu.choose_phone"), Verb.CHOOSE_PHONE)],
    )


UNASKED = {
    deductions.LIFE_EVENT: Unasked(
        deductions.notice_to_tell, notice_card, after_sending=deductions.mark_told
    ),
}
