"""The outbox: campaigns, their rows, claiming rows to send and settling them afterwards.

Claiming is one UPDATE … RETURNING over a `FOR UPDATE SKIP LOCKED` sub-select, so dispatchers on
several machines sharing PostgreSQL never claim the same row; SQLite ignores the locking clause
and runs the same statement atomically (one writer). A claim is a lease: a row whose worker died
is claimed again once its lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import as_utc
from bot.db.upsert import upsert
from bot.notifications.delivery import Delivered, Outgoing
from bot.notifications.models import Campaign, CampaignState, Notification, NotificationState
from bot.refusal import Refused

SKIPPED = "skipped"  # a delivered row's outcome when its message was no longer needed
GAVE_UP = "gave_up"  # retried for the give-up time since the first failure, in vain
LOST = "lost"  # claimed again after its worker vanished mid-send
CONNECTOR_DOWN = "connector_down"  # put back untried while the breaker holds every send
CONFIGURATION = "configuration"  # put back: the dispatcher stopped on a configuration error
ERROR_LENGTH = 300


class OutboxError(Refused):
    """A campaign that cannot take the change asked for; nothing changed."""

    catalog = "campaign_problem"


@dataclass(frozen=True)
class Settlement:
    """What one attempt came to, written back to its row (only if the claim is still ours)."""

    notification_id: int
    attempt: int
    state: NotificationState
    at: datetime
    attempts: int
    next_attempt_at: datetime | None = None
    status: int | None = None
    reason: str | None = None
    error: str | None = None
    outcome: str | None = None
    conversation_id: str | None = None
    activity_id: str | None = None
    failing_since: datetime | None = None


def delivered(outgoing: Outgoing, result: Delivered, now: datetime) -> Settlement:
    return Settlement(
        outgoing.notification_id,
        outgoing.attempt,
        NotificationState.DELIVERED,
        now,
        outgoing.attempt,
        outcome=result.outcome,
        conversation_id=result.conversation_id,
        activity_id=result.activity_id,
    )


def retry_later(
    outgoing: Outgoing,
    at: datetime,
    now: datetime,
    *,
    status: int | None,
    reason: str,
    error: str = "",
) -> Settlement:
    return Settlement(
        outgoing.notification_id,
        outgoing.attempt,
        NotificationState.PENDING,
        now,
        outgoing.attempt,
        next_attempt_at=at,
        status=status,
        reason=reason,
        error=error[:ERROR_LENGTH] or None,
        failing_since=outgoing.failing_since or now,
    )


def postpone(
    outgoing: Outgoing, at: datetime, now: datetime, *, reason: str | None = None, error: str = ""
) -> Settlement:
    """Back to the queue untried (its conversation is over its limits, sending is paused): the
    attempt is not spent, and neither is its time before giving up."""
    return Settlement(
        outgoing.notification_id,
        outgoing.attempt,
        NotificationState.PENDING,
        now,
        outgoing.attempt - 1,
        next_attempt_at=at,
        reason=reason,
        error=error[:ERROR_LENGTH] or None,
        failing_since=outgoing.failing_since,
    )


def failed(
    outgoing: Outgoing, now: datetime, *, status: int | None, reason: str, error: str = ""
) -> Settlement:
    return Settlement(
        outgoing.notification_id,
        outgoing.attempt,
        NotificationState.FAILED,
        now,
        outgoing.attempt,
        status=status,
        reason=reason,
        error=error[:ERROR_LENGTH] or None,
        failing_since=outgoing.failing_since or now,
    )


async def create_campaign(
    *,
    session: AsyncSession,
    key: str,
    kind: str,
    title: str = "",
    payload: dict[str, Any] | None = None,
    created_by: str = "system",
    not_before: datetime | None = None,
    now: datetime,
) -> Campaign:
    """The campaign with this key: created now, or the one created before (unchanged)."""
    await upsert(
        session,
        Campaign,
        {
            "key": key,
            "kind": kind,
            "title": title,
            "payload": payload or {},
            "created_by": created_by,
            "created_at": as_utc(now),
            "not_before": as_utc(not_before) if not_before else None,
            "state": CampaignState.ACTIVE,
        },
        conflict_columns=["key"],
    )
    campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
    assert campaign is not None
    return campaign


async def enqueue(
    *,
    session: AsyncSession,
    campaign_id: int,
    recipients: Iterable[str],
    now: datetime,
) -> int:
    """Adds a row per new recipient; those already in the campaign are left as they are."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise OutboxError("no_campaign", campaign=str(campaign_id))
    if campaign.state != CampaignState.ACTIVE:
        raise OutboxError("not_active", campaign=str(campaign_id), state=campaign.state)
    unique = [recipient for recipient in dict.fromkeys(recipients) if recipient]
    created = as_utc(now)
    insert: Any = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    table = cast(Table, Notification.__table__)
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["campaign_id", "recipient"])
        .returning(table.c.id)
    )
    rows = [
        {
            "campaign_id": campaign_id,
            "recipient": recipient,
            "state": NotificationState.PENDING.value,
            "attempts": 0,
            "created_at": created,
            "updated_at": created,
        }
        for recipient in unique
    ]
    if not rows:
        return 0
    return len((await session.execute(statement, rows)).all())


async def top_up(
    *,
    session: AsyncSession,
    campaign: Campaign,
    recipients: Iterable[str],
    now: datetime,
) -> int:
    """What planners call again and again: adds new recipients, and none to a campaign ICT
    cancelled, which stays cancelled (where `enqueue` would refuse)."""
    if campaign.state != CampaignState.ACTIVE:
        return 0
    return await enqueue(session=session, campaign_id=campaign.id, recipients=recipients, now=now)


async def schedule_personal(
    *,
    session: AsyncSession,
    campaign_id: int,
    recipient: str,
    at: datetime,
    now: datetime,
) -> None:
    """One row for this recipient, due at `at`: added, or moved there (and re-armed if settled)."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.state != CampaignState.ACTIVE:
        raise OutboxError("takes_no_rows", campaign=str(campaign_id))
    created = as_utc(now)
    fresh = {
        "state": NotificationState.PENDING,
        "attempts": 0,
        "next_attempt_at": as_utc(at),
        "failing_since": None,
        "lease_until": None,
        "claimed_by": None,
        "last_status": None,
        "last_error": None,
        "reason": None,
        "outcome": None,
        "conversation_id": None,
        "activity_id": None,
        "sent_at": None,
        "updated_at": created,
    }
    await upsert(
        session,
        Notification,
        {"campaign_id": campaign_id, "recipient": recipient, "created_at": created, **fresh},
        conflict_columns=["campaign_id", "recipient"],
        update_columns=list(fresh),
    )


async def claim(
    *, session: AsyncSession, worker: str, limit: int, now: datetime, lease: timedelta
) -> list[Outgoing]:
    """Leases up to `limit` rows that are due: pending ones, and those whose worker vanished
    (their lost attempt counts as a failed one: it starts the time before giving up)."""
    now = as_utc(now)
    was_lost = Notification.state == NotificationState.SENDING
    due = or_(
        and_(
            Notification.state == NotificationState.PENDING,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        ),
        _abandoned(now),
    )
    picked = (
        select(Notification.id)
        .join(Campaign, Campaign.id == Notification.campaign_id)
        .where(
            due,
            Campaign.state == CampaignState.ACTIVE,
            or_(Campaign.not_before.is_(None), Campaign.not_before <= now),
        )
        .limit(limit)
        .with_for_update(of=Notification, skip_locked=True)
    )
    claimed = (
        await session.execute(
            update(Notification)
            .where(Notification.id.in_(picked.scalar_subquery()))
            .values(
                state=NotificationState.SENDING,
                attempts=Notification.attempts + 1,
                lease_until=now + lease,
                claimed_by=worker,
                updated_at=now,
                reason=case((was_lost, LOST), else_=Notification.reason),
                failing_since=case(
                    (was_lost, func.coalesce(Notification.failing_since, now)),
                    else_=Notification.failing_since,
                ),
            )
            .returning(
                Notification.id,
                Notification.campaign_id,
                Notification.recipient,
                Notification.attempts,
                Notification.failing_since,
                Notification.reason,
            ),
            execution_options={"synchronize_session": False},
        )
    ).all()
    if not claimed:
        return []
    campaigns = {
        row.id: row
        for row in await session.execute(
            select(Campaign.id, Campaign.kind, Campaign.payload).where(
                Campaign.id.in_({row.campaign_id for row in claimed})
            )
        )
    }
    return [
        Outgoing(
            notification_id=row.id,
            campaign_id=row.campaign_id,
            kind=campaigns[row.campaign_id].kind,
            payload=dict(campaigns[row.campaign_id].payload or {}),
            recipient=row.recipient,
            attempt=row.attempts,
            failing_since=as_utc(row.failing_since) if row.failing_since else None,
            lost=row.reason == LOST,
        )
        for row in sorted(claimed, key=lambda row: row.id)
    ]


async def settle(*, session: AsyncSession, settlements: Sequence[Settlement]) -> None:
    """Writes attempt results in one statement; a row re-claimed by another worker is skipped."""
    if not settlements:
        return
    table = cast(Table, Notification.__table__)
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.attempts == bindparam("b_attempt"),
            table.c.state == NotificationState.SENDING,
        )
        .values(
            state=bindparam("b_state"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next_attempt_at"),
            failing_since=bindparam("b_failing_since"),
            lease_until=None,
            last_status=bindparam("b_status"),
            last_error=bindparam("b_error"),
            reason=bindparam("b_reason"),
            outcome=bindparam("b_outcome"),
            conversation_id=bindparam("b_conversation_id"),
            activity_id=bindparam("b_activity_id"),
            sent_at=bindparam("b_sent_at"),
            updated_at=bindparam("b_at"),
        )
    )
    await session.execute(
        statement,
        [
            {
                "b_id": item.notification_id,
                "b_attempt": item.attempt,
                "b_state": str(item.state),
                "b_attempts": item.attempts,
                "b_next_attempt_at": as_utc(item.next_attempt_at) if item.next_attempt_at else None,
                "b_failing_since": as_utc(item.failing_since) if item.failing_since else None,
                "b_status": item.status,
                "b_error": item.error,
                "b_reason": item.reason,
                "b_outcome": item.outcome,
                "b_conversation_id": item.conversation_id,
                "b_activity_id": item.activity_id,
                "b_sent_at": as_utc(item.at) if item.state == NotificationState.DELIVERED else None,
                "b_at": as_utc(item.at),
            }
            for item in settlements
        ],
    )
    requeued = [
        item.notification_id for item in settlements if item.state == NotificationState.PENDING
    ]
    if requeued:
        await session.execute(
            update(Notification)
            .where(
                Notification.id.in_(requeued),
                Notification.state == NotificationState.PENDING,
                Notification.campaign_id.in_(
                    select(Campaign.id).where(Campaign.state != CampaignState.ACTIVE)
                ),
            )
            .values(state=NotificationState.CANCELLED, updated_at=as_utc(settlements[0].at)),
            execution_options={"synchronize_session": False},
        )


async def extend_leases(
    *, session: AsyncSession, worker: str, notification_ids: Sequence[int], until: datetime
) -> None:
    """Keeps rows that are still being worked on from being claimed by another worker."""
    if not notification_ids:
        return
    await session.execute(
        update(Notification)
        .where(
            Notification.id.in_(notification_ids),
            Notification.state == NotificationState.SENDING,
            Notification.claimed_by == worker,
        )
        .values(lease_until=as_utc(until)),
        execution_options={"synchronize_session": False},
    )


async def cancel_campaign(*, session: AsyncSession, campaign_id: int, now: datetime) -> int:
    """Stops a campaign: rows not yet sent are cancelled, what was sent stays sent.

    A row whose worker died mid-send (its lease ran out) is cancelled too: nobody claims it again.
    """
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise OutboxError("no_campaign", campaign=str(campaign_id))
    campaign.state = CampaignState.CANCELLED
    now = as_utc(now)
    result = await session.execute(
        update(Notification)
        .where(
            Notification.campaign_id == campaign_id,
            or_(Notification.state == NotificationState.PENDING, _abandoned(now)),
        )
        .values(state=NotificationState.CANCELLED, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def retry_failed(
    *, session: AsyncSession, campaign_id: int, now: datetime, reason: str | None = None
) -> int:
    """Puts a campaign's failed rows (only those failed for `reason`, if given) back in the queue,
    each with a fresh give-up time; returns how many. Delivered and cancelled rows stay."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise OutboxError("no_campaign", campaign=str(campaign_id))
    if campaign.state != CampaignState.ACTIVE:
        raise OutboxError("not_active", campaign=str(campaign_id), state=campaign.state)
    failed_here = [
        Notification.campaign_id == campaign_id,
        Notification.state == NotificationState.FAILED,
    ]
    if reason is not None:
        failed_here.append(Notification.reason == reason)
    result = await session.execute(
        update(Notification)
        .where(*failed_here)
        .values(
            state=NotificationState.PENDING,
            next_attempt_at=None,
            failing_since=None,
            reason=None,
            updated_at=as_utc(now),
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sweep(*, session: AsyncSession, now: datetime) -> int:
    """Cancels rows of cancelled campaigns whose worker died mid-send; claim never takes them."""
    now = as_utc(now)
    result = await session.execute(
        update(Notification)
        .where(
            _abandoned(now),
            Notification.campaign_id.in_(
                select(Campaign.id).where(Campaign.state == CampaignState.CANCELLED)
            ),
        )
        .values(state=NotificationState.CANCELLED, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _abandoned(now: datetime) -> ColumnElement[bool]:
    """Being sent by a worker that has not renewed its lease in time: it is gone."""
    return and_(Notification.state == NotificationState.SENDING, Notification.lease_until < now)


@dataclass(frozen=True)
class CampaignReport:
    """Where a campaign stands: rows by state, failures by reason, why rows wait, how deliveries
    went."""

    id: int
    key: str
    kind: str
    title: str
    state: str
    created_by: str
    created_at: datetime
    not_before: datetime | None
    counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)  # pending rows by their last reason
    outcomes: dict[str, int] = field(default_factory=dict)
    retrying: int = 0
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unsettled(self) -> int:
        """Rows still to be sent (pending, or being sent right now)."""
        return self.counts[NotificationState.PENDING] + self.counts[NotificationState.SENDING]

    @property
    def settled(self) -> int:
        return self.total - self.unsettled

    @property
    def skipped(self) -> int:
        """Rows settled as no longer needed (the person chose meanwhile): nothing was sent."""
        return self.outcomes.get(SKIPPED, 0)

    @property
    def reached(self) -> int:
        """Rows whose message reached its recipient: delivered, less those skipped."""
        return self.counts.get(NotificationState.DELIVERED, 0) - self.skipped


async def campaign_report(*, session: AsyncSession, campaign_id: int) -> CampaignReport | None:
    reports = await _reports(session, select(Campaign).where(Campaign.id == campaign_id))
    return reports[0] if reports else None


async def list_campaigns(
    *,
    session: AsyncSession,
    limit: int = 50,
    except_kinds: Sequence[str] = (),
    only_kinds: Sequence[str] = (),
) -> list[CampaignReport]:
    """The newest campaigns first, each with its counts."""
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if except_kinds:
        query = query.where(Campaign.kind.not_in(except_kinds))
    if only_kinds:
        query = query.where(Campaign.kind.in_(only_kinds))
    return await _reports(session, query)


async def _reports(session: AsyncSession, campaigns_query: Any) -> list[CampaignReport]:
    campaigns = list(await session.scalars(campaigns_query))
    if not campaigns:
        return []
    ids = [campaign.id for campaign in campaigns]
    counts: dict[int, dict[str, int]] = {
        campaign_id: dict.fromkeys(NotificationState, 0) for campaign_id in ids
    }
    failures: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in ids}
    waiting: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in ids}
    outcomes: dict[int, dict[str, int]] = {campaign_id: {} for campaign_id in ids}
    retrying: dict[int, int] = dict.fromkeys(ids, 0)
    sent: dict[int, tuple[datetime | None, datetime | None]] = {}
    # Grouped in the order of ix_notification_report, which holds every column read here.
    tried = func.sum(case((Notification.attempts > literal_column("0"), 1), else_=0))
    grouped = await session.execute(
        select(
            Notification.campaign_id,
            Notification.state,
            Notification.reason,
            Notification.outcome,
            tried,
            func.count(),
            func.min(Notification.sent_at),
            func.max(Notification.sent_at),
        )
        .where(Notification.campaign_id.in_(ids))
        .group_by(
            Notification.campaign_id,
            Notification.state,
            Notification.reason,
            Notification.outcome,
        )
    )
    for campaign_id, state, reason, outcome, retried, count, first, last in grouped:
        counts[campaign_id][state] = counts[campaign_id].get(state, 0) + count
        if state == NotificationState.FAILED:
            key = reason or "unknown"
            failures[campaign_id][key] = failures[campaign_id].get(key, 0) + count
        if state == NotificationState.DELIVERED:
            key = outcome or "unknown"
            outcomes[campaign_id][key] = outcomes[campaign_id].get(key, 0) + count
            earliest, latest = sent.get(campaign_id, (None, None))
            first, last = as_utc(first) if first else None, as_utc(last) if last else None
            sent[campaign_id] = (
                min(filter(None, (earliest, first)), default=None),
                max(filter(None, (latest, last)), default=None),
            )
        if state == NotificationState.PENDING:
            retrying[campaign_id] += int(retried or 0)
        if state == NotificationState.PENDING and reason:
            waiting[campaign_id][reason] = waiting[campaign_id].get(reason, 0) + count
    return [
        CampaignReport(
            id=campaign.id,
            key=campaign.key,
            kind=campaign.kind,
            title=campaign.title,
            state=campaign.state,
            created_by=campaign.created_by,
            created_at=as_utc(campaign.created_at),
            not_before=as_utc(campaign.not_before) if campaign.not_before else None,
            counts={str(state): count for state, count in counts[campaign.id].items()},
            failures=failures[campaign.id],
            waiting=waiting[campaign.id],
            outcomes=outcomes[campaign.id],
            retrying=retrying[campaign.id],
            first_sent_at=sent.get(campaign.id, (None, None))[0],
            last_sent_at=sent.get(campaign.id, (None, None))[1],
        )
        for campaign in campaigns
    ]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"
