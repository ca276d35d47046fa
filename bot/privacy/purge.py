"""Retention that runs: deletes (or, for leavers, anonymises) what the policy no longer keeps.

Every step works in small batches, each its own short transaction, so turns go on beside it and
the event loop is never held long; a dry run is the same run rolled back. The report is counts
only: nothing about whom.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.state_storage import BotStateRecord
from bot.announcements.models import AnnouncementReceipt
from bot.announcements.receipts import ANNOUNCEMENT_REMINDER
from bot.choices.models import PhoneChoice
from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import as_utc
from bot.deductions.models import DeductionPlan, PayrollPosting, PendingNotice
from bot.directory.models import Employee
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.ict.models import FileUpload
from bot.notifications.models import Campaign, Notification, NotificationState
from bot.privacy.copy import dialog_state_key
from bot.privacy.inventory import Rule
from bot.privacy.models import AuditEvent, CopyLink
from bot.privacy.policy import RetentionPolicy
from bot.rollout.models import RolloutWave
from bot.rollout.service import helsinki_today
from bot.tickets.models import HelpdeskMember, Ticket, TicketEvent, TicketState

BATCH = 500
# Anonymising one leaver touches a dozen tables: a few at a time keeps each transaction short.
LEAVERS_PER_TRANSACTION = 50
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
    skipped: bool = False  # another process was running it

    def add(self, what: str, count: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + count

    @property
    def total(self) -> int:
        """Rows removed; the leaver counts are people, not rows."""
        return sum(count for what, count in self.counts.items() if not what.startswith("leavers"))


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
        """Every rule at `now`. A dry run is the same run inside one transaction that is rolled
        back at the end, so its counts are exactly what a real run would remove."""
        report = PurgeReport(dry_run=dry_run, counts=dict.fromkeys(STEPS, 0))
        engine: AsyncEngine = self._sessions.kw["bind"]
        if not dry_run:
            async with _only_runner(engine) as alone:
                if alone:
                    await self._steps(as_utc(now), report)
                else:
                    report.skipped = True
            return report
        async with engine.connect() as connection:
            outer = await connection.begin()
            if connection.dialect.name == "sqlite":
                # The sqlite3 module opens a transaction only before a change, so the savepoints
                # would commit on their own: begin it here, and they nest inside it.
                await connection.exec_driver_sql("BEGIN")
            try:
                rehearsal = async_sessionmaker(
                    bind=connection,
                    join_transaction_mode="create_savepoint",
                    expire_on_commit=False,
                )
                await Purge(rehearsal, self._policy, batch=self._batch)._steps(as_utc(now), report)
            finally:
                await outer.rollback()
        return report

    async def _steps(self, now: datetime, report: PurgeReport) -> None:
        await self._left_conversations(report)
        await self._idle_dialog_states(now, report)
        await self._settled_messages(now, report)
        await self._resolved_tickets(now, report)
        await self._old_questions(now, report)
        await self._old_records(now, report)
        # Last, so what the other rules remove is counted under them; the rest goes with it.
        await self._leavers(now, report)

    # --- the steps -----------------------------------------------------------------------

    async def _left_conversations(self, report: PurgeReport) -> None:
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
                if not rows:
                    return
                keys = [
                    dialog_state_key(channel, conversation) for _, channel, conversation in rows
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

    async def _idle_dialog_states(self, now: datetime, report: PurgeReport) -> None:
        cutoff = self._policy.cutoff(Rule.STATE, now)
        due = select(BotStateRecord.key).where(BotStateRecord.updated_at < cutoff)
        await self._delete(report, "dialog_states", BotStateRecord.key, due)

    async def _settled_messages(self, now: datetime, report: PurgeReport) -> None:
        """Rows of campaigns that are over: every row settled, none new since the cutoff, and
        no planner that could add the same people again (a wave still open)."""
        cutoff = self._policy.cutoff(Rule.OUTBOX, now)
        for campaign_id in await self._finished_campaigns(now, cutoff):
            due = select(Notification.id).where(Notification.campaign_id == campaign_id)
            await self._delete(report, "notifications", Notification.id, due)
            # An announcement's receipts go with its rows, never before: the reminder planner
            # would take someone who acknowledged for someone who has not.
            receipts = (AnnouncementReceipt.campaign_id == campaign_id,)
            await self._delete_where(report, "receipts", AnnouncementReceipt, receipts)
        notices = select(PendingNotice.id).where(
            PendingNotice.sent_at.is_not(None), PendingNotice.sent_at < cutoff
        )
        await self._delete(report, "notices", PendingNotice.id, notices)

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
                    select(Campaign.id, Campaign.kind, Campaign.payload).where(
                        Campaign.id.in_(over)
                    )
                )
            ).all()
            open_waves = set(
                await session.scalars(select(RolloutWave.id).where(RolloutWave.closes_on >= today))
            )
            found = await session.execute(
                select(Campaign.key, Campaign.id).where(Campaign.kind == ANNOUNCEMENT_REMINDER)
            )
            reminders: dict[str, int] = {key: campaign_id for key, campaign_id in found}
        finished = {campaign_id for campaign_id, _, _ in rows}
        done = []
        for campaign_id, kind, payload in rows:
            payload = payload if isinstance(payload, dict) else {}
            if payload.get("wave_id") in open_waves:
                continue  # its planner would add the same people again
            if kind == ANNOUNCEMENT_REMINDER and payload.get("announcement") not in finished:
                continue  # its rows say who was reminded: they go with the announcement's
            reminder = reminders.get(f"{ANNOUNCEMENT_REMINDER}-{campaign_id}")
            if reminder is not None and reminder not in finished:
                continue  # its rows and receipts say whom the reminder still may reach
            done.append(campaign_id)
        return done

    async def _resolved_tickets(self, now: datetime, report: PurgeReport) -> None:
        cutoff = self._policy.cutoff(Rule.TICKET, now)
        due = select(Ticket.id).where(
            Ticket.state == TicketState.RESOLVED.value, Ticket.resolved_at < cutoff
        )
        await self._delete_tickets(report, due)

    async def _old_questions(self, now: datetime, report: PurgeReport) -> None:
        cutoff = self._policy.cutoff(Rule.QUESTION, now)
        due = select(FaqQuestion.id).where(FaqQuestion.asked_at < cutoff)
        while True:
            async with self._sessions() as session, session.begin():
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

    async def _old_records(self, now: datetime, report: PurgeReport) -> None:
        cutoff = self._policy.cutoff(Rule.AUDIT, now)
        uploads = select(FileUpload.id).where(FileUpload.uploaded_at < cutoff)
        await self._delete(report, "uploads", FileUpload.id, uploads)
        audit = select(AuditEvent.id).where(AuditEvent.at < cutoff)
        await self._delete(report, "audit_events", AuditEvent.id, audit)
        links = select(CopyLink.token_sha256).where(CopyLink.expires_at < now)
        await self._delete(report, "links", CopyLink.token_sha256, links)

    async def _leavers(self, now: datetime, report: PurgeReport) -> None:
        """Leavers N months gone whose every plan is paid: detached from who they were.

        Payroll's figures (choices, plans, postings) stay under a new random id with no name;
        everything else about them is deleted, and counted under its own step. A plan still
        owed keeps the person as they are. A few people per transaction, set-based.
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
                        .limit(LEAVERS_PER_TRANSACTION)
                    )
                )
                if not people:
                    return
                after = people[-1]
                owing = await _still_owing(session, people)
                report.add("leavers_kept", len(owing))
                settled = [person for person in people if person not in owing]
                report.add("leavers_anonymised", len(settled))
                if settled:
                    await _anonymise(session, settled, now, report)
            await asyncio.sleep(0)

    # --- helpers ----------------------------------------------------------------------------

    async def _delete(self, report: PurgeReport, what: str, key: Any, due: Select[Any]) -> None:
        """Deletes the rows `due` selects by their key, a batch per transaction."""
        table = key.class_
        while True:
            async with self._sessions() as session, session.begin():
                keys = list(await session.scalars(due.limit(self._batch)))
                if not keys:
                    return
                # The condition again: a row a turn changed since the select stays.
                still_due = delete(table).where(key.in_(keys))
                if due.whereclause is not None:
                    still_due = still_due.where(due.whereclause)
                gone = await session.execute(still_due)
                report.add(what, _rowcount(gone))
            await asyncio.sleep(0)

    async def _delete_where(
        self,
        report: PurgeReport,
        what: str,
        model: Any,
        where: Sequence[ColumnElement[bool]],
    ) -> None:
        """One statement, for small tables without a single-column key."""
        async with self._sessions() as session, session.begin():
            report.add(what, _rowcount(await session.execute(delete(model).where(*where))))

    async def _delete_tickets(self, report: PurgeReport, due: Select[Any]) -> None:
        while True:
            async with self._sessions() as session, session.begin():
                ids = list(await session.scalars(due.limit(self._batch)))
                if not ids:
                    return
                await _delete_ticket_rows(session, ids, report)
            await asyncio.sleep(0)


# Every `serve` and `dispatch` process runs retention; on PostgreSQL one at a time does.
_PURGE_LOCK = 0x70757267  # "purg"


@asynccontextmanager
async def _only_runner(engine: AsyncEngine) -> AsyncIterator[bool]:
    """True while this process holds the purge's advisory lock (SQLite: one process anyway)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as connection:
        locked = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _PURGE_LOCK}
        )
        await connection.commit()
        try:
            yield bool(locked)
        finally:
            if locked:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _PURGE_LOCK}
                )
                await connection.commit()


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


async def _anonymise(
    session: AsyncSession, people: list[str], now: datetime, report: PurgeReport
) -> None:
    """Payroll's figures move to new ids with no name; the rest about the people goes."""
    tickets = select(Ticket.id).where(Ticket.requester_aad.in_(people))
    removed: tuple[tuple[str, Any, ColumnElement[bool]], ...] = (
        ("ticket_events", TicketEvent, TicketEvent.ticket_id.in_(tickets)),
        ("tickets", Ticket, Ticket.requester_aad.in_(people)),
        ("notices", PendingNotice, PendingNotice.aad_object_id.in_(people)),
        ("notifications", Notification, Notification.recipient.in_(people)),
        ("receipts", AnnouncementReceipt, AnnouncementReceipt.aad_object_id.in_(people)),
        ("links", CopyLink, CopyLink.aad_object_id.in_(people)),
        (
            "conversations",
            ConversationReferenceRecord,
            ConversationReferenceRecord.aad_object_id.in_(people),
        ),
    )
    olds = list(await session.scalars(select(Employee).where(Employee.aad_object_id.in_(people))))
    stand_ins = {old.aad_object_id: f"{ANONYMOUS_PREFIX}{uuid.uuid4().hex}" for old in olds}
    session.add_all(
        Employee(
            aad_object_id=stand_ins[old.aad_object_id],
            display_name="",
            unit_code=old.unit_code,
            account_enabled=False,
            left_at=old.left_at,
            created_at=old.created_at,
            updated_at=now,
        )
        for old in olds
    )
    await session.flush()
    for table in (cast(Table, PhoneChoice.__table__), cast(Table, DeductionPlan.__table__)):
        await session.execute(
            update(table)
            .where(table.c.aad_object_id == bindparam("old"))
            .values(aad_object_id=bindparam("new"), **_touched(table, now)),
            [{"old": old, "new": new} for old, new in stand_ins.items()],
        )
    await session.execute(
        update(PhoneChoice)
        .where(PhoneChoice.aad_object_id.in_(list(stand_ins.values())))
        .values(consent_token=None, consent_language=None, updated_at=now)
    )
    for what, model, where in removed:
        report.add(what, _rowcount(await session.execute(delete(model).where(where))))
    # A ticket the leaver had taken goes back to the helpdesk's queue (its card updates).
    await session.execute(
        update(Ticket)
        .where(Ticket.assignee_aad.in_(people), Ticket.state == TicketState.TAKEN.value)
        .values(
            state=TicketState.OPEN.value,
            version=Ticket.version + 1,
            relay_pending=True,
            updated_at=now,
        )
    )
    await session.execute(
        update(Ticket)
        .where(Ticket.assignee_aad.in_(people))
        .values(assignee_aad=None, assignee_name=None)
    )
    await session.execute(
        update(TicketEvent)
        .where(TicketEvent.actor_aad.in_(people))
        .values(actor_aad=None, actor_name=None)
    )
    await session.execute(
        update(FaqQuestion).where(FaqQuestion.asker_aad.in_(people)).values(asker_aad=None)
    )
    await session.execute(delete(HelpdeskMember).where(HelpdeskMember.aad_object_id.in_(people)))
    await session.execute(delete(Employee).where(Employee.aad_object_id.in_(people)))


def _touched(table: Table, now: datetime) -> dict[str, Any]:
    """`updated_at` from the run's own clock, where the table has one."""
    return {"updated_at": now} if "updated_at" in table.c else {}


def _unsettled() -> Any:
    return case((Notification.state.in_(_SETTLED), 0), else_=1)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
