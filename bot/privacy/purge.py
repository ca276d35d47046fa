"""Retention that runs: deletes (or, for leavers, anonymises) what the policy no longer keeps.

Every step works in small batches, each its own short transaction, so turns go on beside it and
the event loop is never held long; a dry run counts the same rows and changes nothing. The
report is counts only: nothing about whom.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.state_storage import BotStateRecord
from bot.announcements.models import AnnouncementReceipt
from bot.choices.models import PhoneChoice
from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import as_utc
from bot.deductions.models import DeductionPlan, PayrollPosting, PendingNotice
from bot.directory.models import Employee
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.ict.models import FileUpload
from bot.notifications.models import Campaign, Notification, NotificationState
from bot.privacy.inventory import Rule
from bot.privacy.models import AuditEvent, CopyLink
from bot.privacy.policy import RetentionPolicy
from bot.rollout.models import RolloutWave
from bot.rollout.service import helsinki_today
from bot.tickets.models import HelpdeskMember, Ticket, TicketEvent, TicketState

BATCH = 500
ANONYMOUS_PREFIX = "anon-"
_SETTLED = (
    NotificationState.DELIVERED.value,
    NotificationState.FAILED.value,
    NotificationState.CANCELLED.value,
)


@dataclass
class PurgeReport:
    """How many rows each step removed (or would remove): counts only."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, count: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + count

    @property
    def total(self) -> int:
        return sum(count for what, count in self.counts.items() if what != "leavers_kept")


STEPS = (
    "conversations",
    "dialog_states",
    "notifications",
    "notices",
    "receipts",
    "tickets",
    "ticket_events",
    "questions",
    "feedback",
    "uploads",
    "audit_events",
    "links",
    "leavers_anonymised",
    "leavers_kept",
)


class Purge:
    """One run of every retention rule against the database, at `now`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: RetentionPolicy,
        *,
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._policy = policy
        self._batch = batch

    async def run(self, now: datetime, *, dry_run: bool = False) -> PurgeReport:
        report = PurgeReport(dry_run=dry_run, counts=dict.fromkeys(STEPS, 0))
        now = as_utc(now)
        await self._left_conversations(report, dry_run)
        await self._idle_dialog_states(now, report, dry_run)
        await self._settled_messages(now, report, dry_run)
        await self._resolved_tickets(now, report, dry_run)
        await self._old_questions(now, report, dry_run)
        await self._old_records(now, report, dry_run)
        # Last, so what the other rules remove is counted under them; the rest goes with it.
        await self._leavers(now, report, dry_run)
        return report

    # --- the steps -----------------------------------------------------------------------

    async def _left_conversations(self, report: PurgeReport, dry_run: bool) -> None:
        """A leaver cannot be messaged: their conversations and dialog state go at once."""
        left = select(Employee.aad_object_id).where(Employee.left_at.is_not(None))
        due = select(ConversationReferenceRecord.id).where(
            ConversationReferenceRecord.aad_object_id.in_(left)
        )
        while True:
            async with self._sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(
                            ConversationReferenceRecord.id,
                            ConversationReferenceRecord.channel_id,
                            ConversationReferenceRecord.conversation_id,
                        )
                        .where(ConversationReferenceRecord.id.in_(due))
                        .limit(self._batch)
                    )
                ).all()
                if dry_run:
                    report.add("conversations", await _count(session, due))
                    return
                if not rows:
                    return
                keys = [
                    f"{channel}/conversations/{conversation}" for _, channel, conversation in rows
                ]
                states = await session.execute(
                    delete(BotStateRecord).where(BotStateRecord.key.in_(keys))
                )
                report.add("dialog_states", _rowcount(states))
                gone = await session.execute(
                    delete(ConversationReferenceRecord).where(
                        ConversationReferenceRecord.id.in_([row.id for row in rows])
                    )
                )
                report.add("conversations", _rowcount(gone))
            await asyncio.sleep(0)

    async def _idle_dialog_states(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        cutoff = self._policy.cutoff(Rule.STATE, now)
        due = select(BotStateRecord.key).where(BotStateRecord.updated_at < cutoff)
        await self._delete(report, "dialog_states", BotStateRecord.key, due, dry_run)

    async def _settled_messages(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        """Rows of campaigns that are over: every row settled, none new since the cutoff, and
        no planner that could add the same people again (a wave still open)."""
        cutoff = self._policy.cutoff(Rule.OUTBOX, now)
        for campaign_id in await self._finished_campaigns(now, cutoff):
            due = select(Notification.id).where(Notification.campaign_id == campaign_id)
            await self._delete(report, "notifications", Notification.id, due, dry_run)
        notices = select(PendingNotice.id).where(
            PendingNotice.sent_at.is_not(None), PendingNotice.sent_at < cutoff
        )
        await self._delete(report, "notices", PendingNotice.id, notices, dry_run)
        receipts = (AnnouncementReceipt.acknowledged_at < cutoff,)
        await self._delete_where(report, "receipts", AnnouncementReceipt, receipts, dry_run)

    async def _finished_campaigns(self, now: datetime, cutoff: datetime) -> list[int]:
        today = helsinki_today(now)
        over = (
            select(Notification.campaign_id)
            .group_by(Notification.campaign_id)
            .having(
                func.max(func.coalesce(Notification.sent_at, Notification.updated_at)) < cutoff,
                func.max(Notification.created_at) < cutoff,
                func.sum(_unsettled()) == 0,
            )
        )
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Campaign.id, Campaign.payload).where(Campaign.id.in_(over))
                )
            ).all()
            open_waves = set(
                await session.scalars(select(RolloutWave.id).where(RolloutWave.closes_on >= today))
            )
        return [
            campaign_id
            for campaign_id, payload in rows
            if not isinstance(payload, dict) or payload.get("wave_id") not in open_waves
        ]

    async def _resolved_tickets(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        cutoff = self._policy.cutoff(Rule.TICKET, now)
        due = select(Ticket.id).where(
            Ticket.state == TicketState.RESOLVED.value, Ticket.resolved_at < cutoff
        )
        await self._delete_tickets(report, due, dry_run)

    async def _old_questions(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        cutoff = self._policy.cutoff(Rule.QUESTION, now)
        due = select(FaqQuestion.id).where(FaqQuestion.asked_at < cutoff)
        while True:
            async with self._sessions() as session, session.begin():
                if dry_run:
                    report.add("questions", await _count(session, due))
                    feedback = select(FaqFeedback.question_id).where(
                        FaqFeedback.question_id.in_(due)
                    )
                    report.add("feedback", await _count(session, feedback))
                    return
                ids = list(await session.scalars(due.limit(self._batch)))
                if not ids:
                    return
                gone = await session.execute(
                    delete(FaqFeedback).where(FaqFeedback.question_id.in_(ids))
                )
                report.add("feedback", _rowcount(gone))
                gone = await session.execute(delete(FaqQuestion).where(FaqQuestion.id.in_(ids)))
                report.add("questions", _rowcount(gone))
            await asyncio.sleep(0)

    async def _old_records(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        cutoff = self._policy.cutoff(Rule.AUDIT, now)
        uploads = select(FileUpload.id).where(FileUpload.uploaded_at < cutoff)
        await self._delete(report, "uploads", FileUpload.id, uploads, dry_run)
        audit = select(AuditEvent.id).where(AuditEvent.at < cutoff)
        await self._delete(report, "audit_events", AuditEvent.id, audit, dry_run)
        links = select(CopyLink.token_sha256).where(CopyLink.expires_at < now)
        await self._delete(report, "links", CopyLink.token_sha256, links, dry_run)

    async def _leavers(self, now: datetime, report: PurgeReport, dry_run: bool) -> None:
        """Leavers N months gone whose every plan is paid: detached from who they were.

        Payroll's figures (choices, plans, postings) stay under a new random id with no name;
        everything else about them is deleted. A plan still owed keeps the person as they are.
        """
        cutoff = self._policy.cutoff(Rule.LEAVER, now)
        after = ""
        while True:
            async with self._sessions() as session, session.begin():
                people = list(
                    await session.scalars(
                        select(Employee.aad_object_id)
                        .where(
                            Employee.left_at < cutoff,
                            Employee.aad_object_id > after,
                            ~Employee.aad_object_id.startswith(ANONYMOUS_PREFIX),
                        )
                        .order_by(Employee.aad_object_id)
                        .limit(self._batch)
                    )
                )
                if not people:
                    return
                after = people[-1]
                owing = await _still_owing(session, people)
                report.add("leavers_kept", len(owing))
                settled = [person for person in people if person not in owing]
                report.add("leavers_anonymised", len(settled))
                if not dry_run:
                    for person in settled:
                        await _anonymise(session, person, now)
            await asyncio.sleep(0)

    # --- helpers ----------------------------------------------------------------------------

    async def _delete(
        self, report: PurgeReport, what: str, key: Any, due: Select[Any], dry_run: bool
    ) -> None:
        """Deletes the rows `due` selects by their key, a batch per transaction."""
        table = key.class_
        while True:
            async with self._sessions() as session, session.begin():
                if dry_run:
                    report.add(what, await _count(session, due))
                    return
                keys = list(await session.scalars(due.limit(self._batch)))
                if not keys:
                    return
                gone = await session.execute(delete(table).where(key.in_(keys)))
                report.add(what, _rowcount(gone))
            await asyncio.sleep(0)

    async def _delete_where(
        self,
        report: PurgeReport,
        what: str,
        model: Any,
        where: Sequence[ColumnElement[bool]],
        dry_run: bool,
    ) -> None:
        """One statement, for small tables without a single-column key."""
        async with self._sessions() as session, session.begin():
            if dry_run:
                report.add(what, await _count(session, select(model).where(*where)))
                return
            report.add(what, _rowcount(await session.execute(delete(model).where(*where))))

    async def _delete_tickets(self, report: PurgeReport, due: Select[Any], dry_run: bool) -> None:
        while True:
            async with self._sessions() as session, session.begin():
                if dry_run:
                    report.add("tickets", await _count(session, due))
                    events = select(TicketEvent.id).where(TicketEvent.ticket_id.in_(due))
                    report.add("ticket_events", await _count(session, events))
                    return
                ids = list(await session.scalars(due.limit(self._batch)))
                if not ids:
                    return
                await _delete_ticket_rows(session, ids, report)
            await asyncio.sleep(0)


async def _delete_ticket_rows(session: AsyncSession, ids: list[int], report: PurgeReport) -> None:
    gone = await session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(ids)))
    report.add("ticket_events", _rowcount(gone))
    report.add(
        "tickets", _rowcount(await session.execute(delete(Ticket).where(Ticket.id.in_(ids))))
    )


async def _still_owing(session: AsyncSession, people: list[str]) -> set[str]:
    """Those of `people` with a plan whose postings do not yet cover its total."""
    paid = (
        select(PayrollPosting.plan_id, func.sum(PayrollPosting.amount_cents).label("paid"))
        .group_by(PayrollPosting.plan_id)
        .subquery()
    )
    owing = await session.scalars(
        select(DeductionPlan.aad_object_id)
        .outerjoin(paid, paid.c.plan_id == DeductionPlan.id)
        .where(
            DeductionPlan.aad_object_id.in_(people),
            func.coalesce(paid.c.paid, 0) < DeductionPlan.total_cents,
        )
    )
    return set(owing)


async def _anonymise(session: AsyncSession, person: str, now: datetime) -> None:
    """Payroll's figures move to a new id with no name; the rest about the person goes."""
    old = await session.get(Employee, person)
    if old is None:
        return
    stand_in = f"{ANONYMOUS_PREFIX}{uuid.uuid4().hex}"
    session.add(
        Employee(
            aad_object_id=stand_in,
            display_name="",
            unit_code=old.unit_code,
            account_enabled=False,
            left_at=old.left_at,
            created_at=old.created_at,
            updated_at=now,
        )
    )
    await session.flush()
    for owner in (PhoneChoice.aad_object_id, DeductionPlan.aad_object_id):
        await session.execute(
            update(owner.class_).where(owner == person).values(aad_object_id=stand_in)
        )
    await session.execute(
        update(PhoneChoice)
        .where(PhoneChoice.aad_object_id == stand_in)
        .values(consent_token=None, consent_language=None)
    )
    tickets = list(await session.scalars(select(Ticket.id).where(Ticket.requester_aad == person)))
    if tickets:
        await _delete_ticket_rows(session, tickets, PurgeReport(dry_run=False))
    await session.execute(
        update(Ticket)
        .where(Ticket.assignee_aad == person)
        .values(assignee_aad=None, assignee_name=None)
    )
    await session.execute(
        update(TicketEvent)
        .where(TicketEvent.actor_aad == person)
        .values(actor_aad=None, actor_name=None)
    )
    await session.execute(
        update(FaqQuestion).where(FaqQuestion.asker_aad == person).values(asker_aad=None)
    )
    for column in (
        PendingNotice.aad_object_id,
        Notification.recipient,
        AnnouncementReceipt.aad_object_id,
        HelpdeskMember.aad_object_id,
        CopyLink.aad_object_id,
        ConversationReferenceRecord.aad_object_id,
    ):
        await session.execute(delete(column.class_).where(column == person))
    await session.delete(old)


def _unsettled() -> Any:
    return case((Notification.state.in_(_SETTLED), 0), else_=1)


async def _count(session: AsyncSession, due: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(due.subquery())) or 0)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
