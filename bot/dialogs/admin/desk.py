"""ICT's commands in the chat: rollout waves and campaign reports, for the admin role only.

The role is checked on every action, not only when a form is shown: a copied card payload from
someone else's chat reaches the same check.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date
from typing import Any
from urllib.parse import unquote

from bot.announcements.service import FORM_FIELDS, Draft, content_for
from bot.dialogs.admin.announcement_cards import compose_card, preview_controls_card
from bot.dialogs.admin.cards import (
    DraftLine,
    UnitOption,
    WaveLine,
    announcements_card,
    campaigns_card,
    waves_card,
)
from bot.dialogs.announcements.cards import announcement_card
from bot.i18n import Texts, texts
from bot.ict.console import Form, IctConsole, UnitName, Waves, WaveSummary
from bot.numbers import payload_int

log = logging.getLogger(__name__)

Card = dict[str, Any]


class AdminDesk:
    """ICT's commands as cards: checks the role, asks the console, renders what it says."""

    def __init__(self, console: IctConsole, admins: frozenset[str]) -> None:
        self._console = console
        self._admins = admins

    def allows(self, aad_object_id: str | None) -> bool:
        allowed = aad_object_id is not None and aad_object_id in self._admins
        if not allowed:
            log.warning("refused an admin action by someone who is not an ICT admin")
        return allowed

    async def waves(self, t: Texts, *, notice: str | None = None) -> Card:
        return _waves_card(t, await self._console.waves(), notice=notice)

    async def schedule(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Schedules the wave the form describes, or shows its problems; saves all or none."""
        name = str(value.get("name") or "").strip()
        units = [unquote(code) for code in str(value.get("units") or "").split(",") if code]
        opens, closes = _date(value.get("opens")), _date(value.get("closes"))
        if opens is None or closes is None:
            return _waves_card(t, await self._console.waves(), problems=[t("admin.bad_date")])
        scheduled = await self._console.schedule(
            name=name, units=units, opens_on=opens, closes_on=closes
        )
        if scheduled.wave is None:
            problems = [t(f"wave_problem.{key}", **values) for key, values in scheduled.problems]
            return _waves_card(t, scheduled.waves, problems=problems)
        log.info("wave %s scheduled by an ICT admin", scheduled.wave.id)
        notice = t(
            "admin.scheduled", name=scheduled.wave.name, opens=t.date(opens), closes=t.date(closes)
        )
        return _waves_card(t, scheduled.waves, notice=notice)

    async def campaigns(self, t: Texts) -> Card:
        return campaigns_card(t, await self._console.campaigns(), self._console.now())

    async def compose(self, t: Texts, value: dict[str, Any] | None = None) -> Card:
        """The announcement form: empty, as it was when Edit was pressed, or a saved draft."""
        value = value or {}
        return _compose_card(t, await self._console.form(_form(value), _draft_id(value)))

    async def save_draft(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Keeps the form, finished or not, and shows it among the announcements."""
        form = _form(value)
        await self._console.save_draft(form, _draft_id(value), author)
        title = form.get("title_fi") or t("announce.untitled")
        return await self.announcements(t, notice=t("announce.saved", title=title))

    async def delete_draft(self, t: Texts, value: dict[str, Any]) -> Card:
        draft_id = _draft_id(value)
        deleted = draft_id is not None and await self._console.delete_draft(draft_id)
        return await self.announcements(t, notice=t("announce.deleted") if deleted else None)

    async def preview(self, t: Texts, value: dict[str, Any], *, author: str) -> list[Card]:
        """The announcement exactly as recipients will get it (each language written), then its
        audience size and when it goes; or the form again with what is wrong.

        The form is kept as a draft, and the preview's buttons carry its number rather than its
        text, so even a long announcement with a long list of people fits in a Teams message.
        """
        preview = await self._console.preview(_form(value), _draft_id(value), author)
        if preview.draft is None or preview.draft_id is None:
            assert preview.form is not None
            return [_compose_card(t, preview.form)]
        draft = preview.draft
        cards = [_recipient_card(texts("fi"), draft, "fi")]
        if draft.title_en:
            cards.append(_recipient_card(texts("en"), draft, "en"))
        when = (
            t("announce.at", when=t.datetime(draft.send_at)) if draft.send_at else t("announce.now")
        )
        token = secrets.token_urlsafe(12)
        receipt = None
        if draft.ask_receipt and draft.remind_after_days:
            receipt = t("announce.receipt_with_reminder", count=draft.remind_after_days)
        elif draft.ask_receipt:
            receipt = t("announce.receipt_without_reminder")
        controls = preview_controls_card(
            t,
            recipients=preview.recipients,
            when=when,
            token=token,
            draft_id=preview.draft_id,
            receipt=receipt,
        )
        return [*cards, controls]

    async def send(self, t: Texts, value: dict[str, Any], *, author: str) -> list[Card]:
        """Checks the previewed draft again and queues it; then the announcements' report,
        where its delivery can be watched. A second press finds the draft gone: nothing twice."""
        token, draft_id = value.get("token"), _draft_id(value)
        if not isinstance(token, str) or not token or draft_id is None:
            return [await self.announcements(t)]
        sent = await self._console.send(draft_id, token, author)
        if sent.form is not None:
            return [_compose_card(t, sent.form)]
        if sent.campaign_id is None:
            return [await self.announcements(t)]
        log.info("announcement campaign %s queued for %d people", sent.campaign_id, sent.recipients)
        notice = t("announce.sent", title=sent.title, count=sent.recipients)
        return [await self.announcements(t, notice=notice)]

    async def announcements(self, t: Texts, *, notice: str | None = None) -> Card:
        found = await self._console.announcements()
        saved = [DraftLine(draft.id, draft.title, draft.updated_at) for draft in found.drafts]
        return announcements_card(
            t,
            found.reports,
            self._console.now(),
            drafts=saved,
            notice=notice,
            receipts=found.receipts,
        )

    async def stop_announcement(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Sends no more of an announcement; what went out stays sent."""
        campaign_id = payload_int(value.get("campaign"))
        stopped = None
        if campaign_id is not None:
            stopped = await self._console.stop_announcement(campaign_id)
        if stopped is None:
            return await self.announcements(t)
        log.info("announcement campaign %s stopped (%d unsent)", campaign_id, stopped)
        return await self.announcements(t, notice=t("announce.stopped_notice", count=stopped))


def _unit_options(t: Texts, units: list[UnitName]) -> list[UnitOption]:
    return [
        UnitOption(unit.code, unit.name_en if t.language == "en" else unit.name_fi)
        for unit in units
    ]


def _waves_card(
    t: Texts, found: Waves, *, notice: str | None = None, problems: list[str] | None = None
) -> Card:
    waves = [
        WaveLine(wave.name, wave.opens_on, wave.closes_on, list(wave.units)) for wave in found.waves
    ]
    return waves_card(t, waves, _unit_options(t, found.units), notice=notice, problems=problems)


def _wave_options(waves: list[WaveSummary]) -> list[UnitOption]:
    """Rollout waves as choices: an announcement may go to every unit of a wave."""
    return [UnitOption(str(wave.id), wave.name) for wave in waves]


def _compose_card(t: Texts, form: Form) -> Card:
    """The form with what was typed and, if any, what is wrong with it."""
    worded = [t(f"announce.problem.{key}", **values) for key, values in form.problems]
    return compose_card(
        t,
        _unit_options(t, form.units),
        form.values,
        worded,
        waves=_wave_options(form.waves),
        draft_id=form.draft_id,
    )


def _draft_id(value: dict[str, Any]) -> int | None:
    return payload_int(value.get("draft"))


def _form(value: dict[str, Any]) -> dict[str, str]:
    """The announcement form's fields from a submitted card, as text."""
    return {key: value[key] for key in FORM_FIELDS if isinstance(value.get(key), str)}


def _recipient_card(t: Texts, draft: Draft, language: str) -> Card:
    title, text = content_for(draft.payload(), language)
    return announcement_card(
        t,
        title=title,
        text=text,
        image_url=draft.image_url,
        links=list(draft.links),
    )


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
