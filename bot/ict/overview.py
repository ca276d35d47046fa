"""What ICT's tab reads: one short read-only transaction per view, no Teams and no web.

A database that does not answer is `Unavailable`, so the page can say so without knowing SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.announcements.receipts import receipt_counts
from bot.clock import Clock, helsinki_today
from bot.db.base import as_utc
from bot.db.sessions import SessionFactory
from bot.deductions.service import LIFE_EVENT
from bot.directory.models import Unit
from bot.faq.service import TopicFeedback, Unanswered, feedback_report, unanswered_report
from bot.ict.helpdesk_figures import HelpdeskFigures, helpdesk_figures
from bot.ict.progress import Progress, Waiting, not_chosen, rollout_progress
from bot.notifications.models import Notification, NotificationState
from bot.notifications.outbox import CampaignReport, list_campaigns
from bot.privacy.audit import Channel, Use, record_use
from bot.rollout.service import window_for_unit

CAMPAIGNS_SHOWN = 20
HELPDESK_WEEKS = 8
UNANSWERED_SHOWN = 20


class Unavailable(Exception):
    """The database did not answer; nothing was read."""


@dataclass(frozen=True)
class UnitWaiting:
    """Who in a unit has not chosen yet, and when the unit's window closes."""

    code: str
    name_fi: str
    name_en: str
    people: list[Waiting]
    closes_on: date | None


@dataclass(frozen=True)
class CampaignsView:
    reports: list[CampaignReport]
    receipts: dict[int, int]  # acknowledged, for the announcements that asked for it
    newest_deliveries: list[datetime]  # the newest campaign's, earliest first


@dataclass(frozen=True)
class HelpdeskView:
    figures: HelpdeskFigures
    unanswered: list[Unanswered]
    feedback: list[TopicFeedback]


class ProgramOverview:
    """The program's figures for ICT; the caller has checked the role."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def progress(self) -> Progress:
        async with self._read() as session:
            return await rollout_progress(session=session, now=self._clock())

    async def waiting(self, unit_code: str, viewer: str, action: str) -> UnitWaiting | None:
        """The unit's people without a choice; None when there is no such unit. Their names
        are shown, so the viewer's use is logged in the same transaction."""
        async with self._read() as session, session.begin():
            unit = await session.get(Unit, unit_code)
            people = await not_chosen(session=session, unit_code=unit_code)
            if unit is None or people is None:
                return None
            window = await window_for_unit(
                session=session, unit_code=unit_code, today=helsinki_today(self._clock())
            )
            record_use(session, Use(viewer, Channel.TAB, action, len(people)), self._clock())
        return UnitWaiting(unit.code, unit.name_fi, unit.name_en, people, window.closes_on)

    async def campaigns(self) -> CampaignsView:
        """The newest campaigns (each life event's one-person campaign would crowd them out),
        how many acknowledged each announcement that asked for it, and when each of the newest
        campaign's messages was delivered."""
        async with self._read() as session:
            reports = await list_campaigns(
                session=session, limit=CAMPAIGNS_SHOWN, except_kinds=[LIFE_EVENT]
            )
            receipts = await receipt_counts(
                session=session, campaign_ids=[report.id for report in reports]
            )
            newest = await _delivery_times(session, reports[0].id) if reports else []
        return CampaignsView(reports, receipts, newest)

    async def helpdesk(self) -> HelpdeskView:
        async with self._read() as session:
            return HelpdeskView(
                await helpdesk_figures(session=session, now=self._clock(), weeks=HELPDESK_WEEKS),
                await unanswered_report(session=session, limit=UNANSWERED_SHOWN),
                await feedback_report(session=session),
            )

    def _read(self) -> AbstractAsyncContextManager[AsyncSession]:
        return reading(self._sessions)


@asynccontextmanager
async def reading(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose database errors come out as Unavailable."""
    try:
        async with sessions() as session:
            yield session
    except (SQLAlchemyError, OSError) as error:
        raise Unavailable(type(error).__name__) from error


async def _delivery_times(session: AsyncSession, campaign_id: int) -> list[datetime]:
    """When each of a campaign's messages was delivered, earliest first."""
    times = await session.scalars(
        select(Notification.sent_at)
        .where(
            Notification.campaign_id == campaign_id,
            Notification.state == NotificationState.DELIVERED.value,
            Notification.sent_at.is_not(None),
        )
        .order_by(Notification.sent_at)
    )
    return [as_utc(moment) for moment in times if moment is not None]
