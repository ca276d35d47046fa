"""Announcements that ask to be acknowledged: a recipient's "read", counted once, and one
reminder to those who have not acknowledged after the days ICT chose.

Bots cannot read Teams' read receipts, so the card asks: its button records the press, bound to
the person who pressed and to a campaign that reached them. The reminder is a campaign of its
own (kind `announcement_reminder`, one per announcement), so the outbox sends it in working
hours, at Teams' rate, and never twice to anyone; someone who acknowledges before their reminder
goes out is not sent it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.announcements.models import AnnouncementReceipt
from bot.announcements.service import ANNOUNCEMENT, SentAnnouncement
from bot.clock import Clock
from bot.db.base import as_utc
from bot.db.sessions import SessionFactory
from bot.db.upsert import upsert
from bot.notifications import outbox
from bot.notifications.delivery import Outgoing
from bot.notifications.models import Campaign, CampaignState, Notification, NotificationState

ANNOUNCEMENT_REMINDER = "announcement_reminder"


class ReceiptState(StrEnum):
    RECORDED = "recorded"  # this press acknowledged it (or an earlier one did: same answer)
    NOT_RECIPIENT = "not_recipient"  # the announcement was not sent to the one who pressed
    NOT_FOUND = "not_found"  # no such announcement, or it asks for no receipt


@dataclass(frozen=True)
class Receipt:
    state: ReceiptState
    announcement: SentAnnouncement | None = None  # the card to draw again, acknowledged
    acknowledged_at: datetime | None = None


def asks_receipt(payload: dict[str, Any]) -> bool:
    return bool(payload.get("ask_receipt"))


async def acknowledge(
    *, session: AsyncSession, campaign_id: int, person: str, now: datetime
) -> Receipt:
    """Record the person's receipt once; a second press finds the first and changes nothing."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.kind != ANNOUNCEMENT or not asks_receipt(campaign.payload):
        return Receipt(ReceiptState.NOT_FOUND)
    reached = await session.scalar(
        select(Notification.id).where(
            Notification.campaign_id == campaign_id, Notification.recipient == person
        )
    )
    if reached is None or not person:
        return Receipt(ReceiptState.NOT_RECIPIENT)
    await upsert(
        session,
        AnnouncementReceipt,
        {"campaign_id": campaign_id, "aad_object_id": person, "acknowledged_at": as_utc(now)},
        conflict_columns=["campaign_id", "aad_object_id"],
    )
    first = await session.scalar(
        select(AnnouncementReceipt.acknowledged_at).where(
            AnnouncementReceipt.campaign_id == campaign_id,
            AnnouncementReceipt.aad_object_id == person,
        )
    )
    acknowledged_at = as_utc(first) if first else as_utc(now)
    announcement = SentAnnouncement(campaign.payload, campaign.id, acknowledged_at=acknowledged_at)
    return Receipt(ReceiptState.RECORDED, announcement, acknowledged_at)


async def receipt_counts(*, session: AsyncSession, campaign_ids: Iterable[int]) -> dict[int, int]:
    """How many have acknowledged each of these campaigns that asks for it (0 included); a
    campaign that asks for no receipt is not in the answer."""
    ids = list(campaign_ids)
    asking = [
        campaign_id
        for campaign_id, kind, payload in await session.execute(
            select(Campaign.id, Campaign.kind, Campaign.payload).where(Campaign.id.in_(ids))
        )
        if kind == ANNOUNCEMENT and asks_receipt(payload or {})
    ]
    if not asking:
        return {}
    rows = await session.execute(
        select(AnnouncementReceipt.campaign_id, func.count())
        .where(AnnouncementReceipt.campaign_id.in_(asking))
        .group_by(AnnouncementReceipt.campaign_id)
    )
    counts = dict.fromkeys(asking, 0)
    counts.update({campaign_id: count for campaign_id, count in rows})
    return counts


async def receipts_of(*, session: AsyncSession, campaign_id: int) -> dict[str, datetime]:
    """Who acknowledged the campaign, and when."""
    rows = await session.execute(
        select(AnnouncementReceipt.aad_object_id, AnnouncementReceipt.acknowledged_at).where(
            AnnouncementReceipt.campaign_id == campaign_id
        )
    )
    return {person: as_utc(at) for person, at in rows}


async def plan_receipt_reminders(*, session: AsyncSession, now: datetime) -> int:
    """Add, to each announcement's reminder, those it reached the chosen days ago or more who
    have not acknowledged it; returns how many were added."""
    announcements = await session.scalars(
        select(Campaign).where(
            Campaign.kind == ANNOUNCEMENT, Campaign.state == CampaignState.ACTIVE.value
        )
    )
    added = 0
    for announcement in announcements:
        days = announcement.payload.get("remind_after_days")
        if not asks_receipt(announcement.payload) or not isinstance(days, int) or days < 1:
            continue
        reached_by = as_utc(now) - timedelta(days=days)
        acknowledged = select(AnnouncementReceipt.aad_object_id).where(
            AnnouncementReceipt.campaign_id == announcement.id
        )
        due = list(
            await session.scalars(
                select(Notification.recipient)
                .where(
                    Notification.campaign_id == announcement.id,
                    Notification.state == NotificationState.DELIVERED.value,
                    (Notification.outcome.is_(None)) | (Notification.outcome != outbox.SKIPPED),
                    Notification.sent_at <= reached_by,
                    Notification.recipient.not_in(acknowledged),
                )
                .order_by(Notification.recipient)
            )
        )
        if not due:
            continue
        reminder = await outbox.create_campaign(
            session=session,
            key=f"{ANNOUNCEMENT_REMINDER}-{announcement.id}",
            kind=ANNOUNCEMENT_REMINDER,
            title=announcement.title,
            payload={"announcement": announcement.id},
            now=now,
        )
        added += await outbox.top_up(session=session, campaign=reminder, recipients=due, now=now)
    return added


async def reminder_to_tell(
    session: AsyncSession, outgoing: Outgoing, now: datetime
) -> SentAnnouncement | None:
    """The announcement again, as a reminder; None when the person acknowledged it meanwhile or
    ICT stopped the announcement."""
    announcement_id = outgoing.payload.get("announcement")
    announcement = (
        await session.get(Campaign, announcement_id) if isinstance(announcement_id, int) else None
    )
    if announcement is None or announcement.state != CampaignState.ACTIVE.value:
        return None
    receipt = await session.get(AnnouncementReceipt, (announcement.id, outgoing.recipient))
    if receipt is not None:
        return None
    return SentAnnouncement(announcement.payload, announcement.id, reminder=True)


class ReceiptDesk:
    """Where a recipient's press on "acknowledge" lands: one short transaction."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def acknowledge(self, campaign_id: int, person: str) -> Receipt:
        async with self._sessions() as session, session.begin():
            return await acknowledge(
                session=session, campaign_id=campaign_id, person=person, now=self._clock()
            )
