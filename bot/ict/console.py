"""What ICT's commands in the chat read and change: rollout waves, campaign reports and
announcements, one short transaction per action. No Teams here: the admin area renders the
results as cards, after checking the role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announcements.receipts import receipt_counts
from bot.announcements.service import (
    ANNOUNCEMENT,
    Draft,
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
from bot.directory.service import all_units
from bot.notifications.models import Campaign
from bot.notifications.outbox import CampaignReport, cancel_campaign, list_campaigns
from bot.rollout.service import WaveError, all_waves, schedule_wave

# (key, values) pairs a catalog words in the reader's language, as WaveError and read_draft give.
Problems = list[tuple[str, dict[str, str | int]]]


@dataclass(frozen=True)
class UnitName:
    code: str
    name_fi: str
    name_en: str


@dataclass(frozen=True)
class WaveSummary:
    id: int
    name: str
    opens_on: date
    closes_on: date
    units: tuple[str, ...]


@dataclass(frozen=True)
class Waves:
    """The rollout waves and the units a new one may take."""

    waves: list[WaveSummary]
    units: list[UnitName]


@dataclass(frozen=True)
class Scheduled:
    """A wave scheduling: the wave, or the problems that kept it from being saved."""

    waves: Waves
    wave: WaveSummary | None = None
    problems: Problems = field(default_factory=list)


@dataclass(frozen=True)
class Form:
    """The announcement form as shown: what was typed, and the units and waves to pick from."""

    values: dict[str, str]
    units: list[UnitName]
    waves: list[WaveSummary]
    draft_id: int | None = None
    problems: Problems = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    """A draft that reads well (kept, numbered) and how many it reaches; or the form again."""

    draft: Draft | None
    draft_id: int | None
    recipients: int = 0
    form: Form | None = None


@dataclass(frozen=True)
class Sent:
    """An announcement queued; or the form again (`form`), or nothing: the draft was gone."""

    campaign_id: int | None = None
    recipients: int = 0
    title: str = ""
    form: Form | None = None


@dataclass(frozen=True)
class SavedDraft:
    id: int
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class Announcements:
    reports: list[CampaignReport]
    drafts: list[SavedDraft]
    receipts: dict[int, int] = field(default_factory=dict)  # acknowledged, where asked


class IctConsole:
    """ICT's actions on the program's data; the caller has checked the role."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        wake_sender: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._wake_sender = wake_sender

    def now(self) -> datetime:
        return self._clock()

    async def waves(self) -> Waves:
        async with self._sessions() as session:
            return await _waves(session)

    async def schedule(
        self, *, name: str, units: list[str], opens_on: date, closes_on: date
    ) -> Scheduled:
        """Schedules the wave, or says why not; saves all or none."""
        async with self._sessions() as session, session.begin():
            try:
                wave = await schedule_wave(
                    session=session,
                    name=name,
                    opens_on=opens_on,
                    closes_on=closes_on,
                    unit_codes=units,
                )
            except WaveError as error:
                return Scheduled(await _waves(session), problems=error.problems)
            waves = await _waves(session)
            return Scheduled(waves, wave=next(w for w in waves.waves if w.id == wave.id))

    async def campaigns(self) -> list[CampaignReport]:
        """The newest campaigns ICT runs; each life event's one-person campaign would crowd it."""
        async with self._sessions() as session:
            return await list_campaigns(session=session, limit=10, except_kinds=[LIFE_EVENT])

    async def form(self, values: dict[str, str], draft_id: int | None) -> Form:
        """The announcement form: as typed, or a saved draft's when nothing was typed."""
        async with self._sessions() as session:
            if draft_id is not None and not values:
                values = await draft_form(session=session, draft_id=draft_id) or {}
            return await _form(session, values, draft_id)

    async def save_draft(self, values: dict[str, str], draft_id: int | None, author: str) -> None:
        async with self._sessions() as session, session.begin():
            await save_draft(
                session=session, form=values, author=author, now=self._clock(), draft_id=draft_id
            )

    async def delete_draft(self, draft_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            return await delete_draft(session=session, draft_id=draft_id)

    async def preview(self, values: dict[str, str], draft_id: int | None, author: str) -> Preview:
        """Keeps the form as a draft and counts its audience; or the form with its problems."""
        async with self._sessions() as session, session.begin():
            now = self._clock()
            reading = await read_draft(session=session, form=values, now=now)
            if reading.draft is None:
                form = await _form(session, values, draft_id, reading.problems)
                return Preview(None, draft_id, form=form)
            draft_id = await save_draft(
                session=session, form=values, author=author, now=now, draft_id=draft_id
            )
            count = len(await recipients(session=session, draft=reading.draft))
        return Preview(reading.draft, draft_id, recipients=count)

    async def send(self, draft_id: int, token: str, author: str) -> Sent:
        """Reads the previewed draft again and queues it once: a second press finds it gone."""
        async with self._sessions() as session, session.begin():
            now = self._clock()
            values = await draft_form(session=session, draft_id=draft_id)
            if values is None:
                return Sent()
            reading = await read_draft(session=session, form=values, now=now)
            if reading.draft is None:
                return Sent(form=await _form(session, values, draft_id, reading.problems))
            campaign_id, count = await send_announcement(
                session=session, draft=reading.draft, token=token, author=author, now=now
            )
            await delete_draft(session=session, draft_id=draft_id)
        if self._wake_sender is not None:
            self._wake_sender()
        return Sent(campaign_id, count, reading.draft.title_fi)

    async def announcements(self) -> Announcements:
        async with self._sessions() as session:
            reports = await list_campaigns(session=session, limit=10, only_kinds=[ANNOUNCEMENT])
            saved = [
                SavedDraft(draft.id, draft.title, as_utc(draft.updated_at))
                for draft in await drafts(session=session)
            ]
            receipts = await receipt_counts(
                session=session, campaign_ids=[report.id for report in reports]
            )
        return Announcements(reports, saved, receipts)

    async def stop_announcement(self, campaign_id: int) -> int | None:
        """Sends no more of an announcement (only an announcement); None if there is none."""
        async with self._sessions() as session, session.begin():
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None or campaign.kind != ANNOUNCEMENT:
                return None
            return await cancel_campaign(
                session=session, campaign_id=campaign_id, now=self._clock()
            )


async def _waves(session: AsyncSession) -> Waves:
    return Waves(await _wave_summaries(session), await _units(session))


async def _wave_summaries(session: AsyncSession) -> list[WaveSummary]:
    return [
        WaveSummary(wave.id, wave.name, wave.opens_on, wave.closes_on, tuple(units))
        for wave, units in await all_waves(session=session)
    ]


async def _units(session: AsyncSession) -> list[UnitName]:
    return [
        UnitName(unit.code, unit.name_fi, unit.name_en) for unit in await all_units(session=session)
    ]


async def _form(
    session: AsyncSession,
    values: dict[str, Any],
    draft_id: int | None,
    problems: Problems | None = None,
) -> Form:
    return Form(
        values,
        await _units(session),
        await _wave_summaries(session),
        draft_id=draft_id,
        problems=list(problems or []),
    )
