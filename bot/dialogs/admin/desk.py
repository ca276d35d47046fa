"""ICT's commands in the chat: rollout waves and campaign reports, for the admin role only.

The role is checked on every action, not only when a form is shown: a copied card payload from
someone else's chat reaches the same check.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announcements.service import (
    ANNOUNCEMENT,
    FORM_FIELDS,
    Draft,
    content_for,
    delete_draft,
    draft_form,
    drafts,
    read_draft,
    recipients,
    save_draft,
)
from bot.announcements.service import send as send_announcement
from bot.clock import Clock
from bot.db.base import as_utc
from bot.deductions.service import LIFE_EVENT
from bot.dialogs.admin.announcement_cards import (
    announcement_card,
    compose_card,
    preview_controls_card,
)
from bot.dialogs.admin.cards import (
    DraftLine,
    UnitOption,
    WaveLine,
    announcements_card,
    campaigns_card,
    waves_card,
)
from bot.directory.service import all_units
from bot.i18n import Texts, texts
from bot.notifications.models import Campaign
from bot.notifications.outbox import cancel_campaign, list_campaigns
from bot.numbers import payload_int
from bot.rollout.service import WaveError, all_waves, schedule_wave

log = logging.getLogger(__name__)

Card = dict[str, Any]


class AdminDesk:
    """What the admin commands read and change, one short transaction per action."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        admins: frozenset[str],
        *,
        wake_sender: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._admins = admins
        self._wake_sender = wake_sender

    def allows(self, aad_object_id: str | None) -> bool:
        allowed = aad_object_id is not None and aad_object_id in self._admins
        if not allowed:
            log.warning("refused an admin action by someone who is not an ICT admin")
        return allowed

    async def waves(self, t: Texts, *, notice: str | None = None) -> Card:
        async with self._sessions() as session:
            return await self._waves_card(session, t, notice=notice)

    async def schedule(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Schedules the wave the form describes, or shows its problems; saves all or none."""
        name = str(value.get("name") or "").strip()
        units = [unquote(code) for code in str(value.get("units") or "").split(",") if code]
        opens, closes = _date(value.get("opens")), _date(value.get("closes"))
        async with self._sessions() as session, session.begin():
            if opens is None or closes is None:
                return await self._waves_card(session, t, problems=[t("admin.bad_date")])
            try:
                wave = await schedule_wave(
                    session=session, name=name, opens_on=opens, closes_on=closes, unit_codes=units
                )
            except WaveError as error:
                problems = [t(f"wave_problem.{key}", **values) for key, values in error.problems]
                return await self._waves_card(session, t, problems=problems)
            log.info("wave %s scheduled by an ICT admin", wave.id)
            notice = t(
                "admin.scheduled", name=wave.name, opens=t.date(opens), closes=t.date(closes)
            )
            return await self._waves_card(session, t, notice=notice)

    async def campaigns(self, t: Texts) -> Card:
        """The newest campaigns ICT runs; each life event's one-person campaign would crowd it."""
        async with self._sessions() as session:
            reports = await list_campaigns(session=session, limit=10, except_kinds=[LIFE_EVENT])
        return campaigns_card(t, reports, self._clock())

    async def compose(self, t: Texts, value: dict[str, Any] | None = None) -> Card:
        """The announcement form: empty, as it was when Edit was pressed, or a saved draft."""
        value = value or {}
        draft_id = _draft_id(value)
        form = _form(value)
        async with self._sessions() as session:
            if draft_id is not None and not form:
                form = await draft_form(session=session, draft_id=draft_id) or {}
            units, waves = await self._unit_options(session, t), await _wave_options(session)
        return compose_card(t, units, form, waves=waves, draft_id=draft_id)

    async def save_draft(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Keeps the form, finished or not, and shows it among the announcements."""
        form = _form(value)
        async with self._sessions() as session, session.begin():
            await save_draft(
                session=session,
                form=form,
                author=author,
                now=self._clock(),
                draft_id=_draft_id(value),
            )
        title = form.get("title_fi") or t("announce.untitled")
        return await self.announcements(t, notice=t("announce.saved", title=title))

    async def delete_draft(self, t: Texts, value: dict[str, Any]) -> Card:
        draft_id = _draft_id(value)
        deleted = False
        if draft_id is not None:
            async with self._sessions() as session, session.begin():
                deleted = await delete_draft(session=session, draft_id=draft_id)
        return await self.announcements(t, notice=t("announce.deleted") if deleted else None)

    async def preview(self, t: Texts, value: dict[str, Any], *, author: str) -> list[Card]:
        """The announcement exactly as recipients will get it (each language written), then its
        audience size and when it goes; or the form again with what is wrong.

        The form is kept as a draft, and the preview's buttons carry its number rather than its
        text, so even a long announcement with a long list of people fits in a Teams message.
        """
        form = _form(value)
        draft_id = _draft_id(value)
        async with self._sessions() as session, session.begin():
            now = self._clock()
            reading = await read_draft(session=session, form=form, now=now)
            if reading.draft is None:
                return [await self._compose_again(session, t, form, reading.problems, draft_id)]
            draft_id = await save_draft(
                session=session, form=form, author=author, now=now, draft_id=draft_id
            )
            count = len(await recipients(session=session, draft=reading.draft))
        draft = reading.draft
        cards = [_recipient_card(texts("fi"), draft, "fi")]
        if draft.title_en:
            cards.append(_recipient_card(texts("en"), draft, "en"))
        when = (
            t("announce.at", when=t.datetime(draft.send_at)) if draft.send_at else t("announce.now")
        )
        token = secrets.token_urlsafe(12)
        controls = preview_controls_card(
            t, recipients=count, when=when, token=token, draft_id=draft_id
        )
        return [*cards, controls]

    async def send(self, t: Texts, value: dict[str, Any], *, author: str) -> list[Card]:
        """Checks the previewed draft again and queues it; then the announcements' report,
        where its delivery can be watched. A second press finds the draft gone: nothing twice."""
        token, draft_id = value.get("token"), _draft_id(value)
        if not isinstance(token, str) or not token or draft_id is None:
            return [await self.announcements(t)]
        async with self._sessions() as session, session.begin():
            now = self._clock()
            form = await draft_form(session=session, draft_id=draft_id)
            if form is None:
                return [await self.announcements(t)]
            reading = await read_draft(session=session, form=form, now=now)
            if reading.draft is None:
                return [await self._compose_again(session, t, form, reading.problems, draft_id)]
            campaign_id, count = await send_announcement(
                session=session, draft=reading.draft, token=token, author=author, now=now
            )
            await delete_draft(session=session, draft_id=draft_id)
        log.info("announcement campaign %s queued for %d people", campaign_id, count)
        if self._wake_sender is not None:
            self._wake_sender()
        notice = t("announce.sent", title=reading.draft.title_fi, count=count)
        return [await self.announcements(t, notice=notice)]

    async def announcements(self, t: Texts, *, notice: str | None = None) -> Card:
        async with self._sessions() as session:
            reports = await list_campaigns(session=session, limit=10, only_kinds=[ANNOUNCEMENT])
            saved = [
                DraftLine(draft.id, draft.title, as_utc(draft.updated_at))
                for draft in await drafts(session=session)
            ]
        return announcements_card(t, reports, self._clock(), drafts=saved, notice=notice)

    async def stop_announcement(self, t: Texts, value: dict[str, Any], *, author: str) -> Card:
        """Sends no more of an announcement; what went out stays sent."""
        campaign_id = payload_int(value.get("campaign"))
        stopped = None
        if campaign_id is not None:
            async with self._sessions() as session, session.begin():
                campaign = await session.get(Campaign, campaign_id)
                if campaign is not None and campaign.kind == ANNOUNCEMENT:
                    stopped = await cancel_campaign(
                        session=session, campaign_id=campaign_id, now=self._clock()
                    )
        if stopped is None:
            return await self.announcements(t)
        log.info("announcement campaign %s stopped (%d unsent)", campaign_id, stopped)
        return await self.announcements(t, notice=t("announce.stopped_notice", count=stopped))

    async def _compose_again(
        self,
        session: AsyncSession,
        t: Texts,
        form: dict[str, str],
        problems: list[tuple[str, dict[str, str | int]]],
        draft_id: int | None,
    ) -> Card:
        """The form with what was typed and what is wrong with it."""
        units, waves = await self._unit_options(session, t), await _wave_options(session)
        worded = [t(f"announce.problem.{key}", **values) for key, values in problems]
        return compose_card(t, units, form, worded, waves=waves, draft_id=draft_id)

    async def _unit_options(self, session: AsyncSession, t: Texts) -> list[UnitOption]:
        return [
            UnitOption(unit.code, unit.name_en if t.language == "en" else unit.name_fi)
            for unit in await all_units(session=session)
        ]

    async def _waves_card(
        self,
        session: AsyncSession,
        t: Texts,
        *,
        notice: str | None = None,
        problems: list[str] | None = None,
    ) -> Card:
        waves = [
            WaveLine(wave.name, wave.opens_on, wave.closes_on, units)
            for wave, units in await all_waves(session=session)
        ]
        units = await self._unit_options(session, t)
        return waves_card(t, waves, units, notice=notice, problems=problems)


async def _wave_options(session: AsyncSession) -> list[UnitOption]:
    """Rollout waves as choices: an announcement may go to every unit of a wave."""
    return [UnitOption(str(wave.id), wave.name) for wave, _ in await all_waves(session=session)]


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
