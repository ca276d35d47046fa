"""A person's whole life in the bot written straight into the database: every table that can
hold something about them, so copies and purges can be checked table by table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.state_storage import BotStateRecord
from bot.announcements.models import AnnouncementReceipt
from bot.choices.models import PhoneChoice
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import create_session_factory
from bot.deductions.models import DeductionPlan, PayrollImport, PayrollPosting, PendingNotice
from bot.directory.models import Employee, Unit
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.notifications.models import Campaign, Notification
from bot.privacy.models import AuditEvent
from bot.tickets.models import Ticket, TicketEvent


@dataclass(frozen=True)
class Person:
    """What identifies one seeded person; every text written about them contains `marker`."""

    aad: str
    name: str
    upn: str
    number: str
    marker: str

    @property
    def conversation(self) -> str:
        return f"a:{self.aad}"


def person(index: int) -> Person:
    marker = f"merkki{index:04d}"
    return Person(
        aad=f"00000000-0000-4000-9000-{index:012d}",
        name=f"Testi Henkilö {marker}",
        upn=f"testi.{marker}@pori.fi",
        number=f"N{index:06d}",
        marker=marker,
    )


async def add_life(
    engine: AsyncEngine,
    who: Person,
    *,
    at: datetime,
    left_at: datetime | None = None,
    paid_months: int = 24,
    handler: Person | None = None,
) -> None:
    """Directory row, conversation and its state, a Free Choice with its plan and `paid_months`
    of 24 postings, a notice, a delivered message and its receipt, a resolved ticket (taken by
    `handler`), and a question with feedback, all dated `at`."""
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        if await session.get(Unit, "TEST") is None:
            session.add(Unit(code="TEST", name_fi="Testiyksikkö", name_en="Test unit"))
            session.add(
                PayrollImport(
                    id=1, file_name="palkat.csv", sha256="0" * 64, rows=0, added=0, corrected=0
                )
            )
            session.add(
                Campaign(id=1, key="tiedote-1", kind="announcement", title="Tiedote", created_at=at)
            )
        session.add(
            Employee(
                aad_object_id=who.aad,
                display_name=who.name,
                user_principal_name=who.upn,
                employee_number=who.number,
                unit_code="TEST",
                chosen_language="fi",
                first_seen_at=at,
                left_at=left_at,
                account_enabled=left_at is None,
            )
        )
        session.add(
            ConversationReferenceRecord(
                conversation_id=who.conversation,
                channel_id="msteams",
                service_url="https://smba.example/",
                aad_object_id=who.aad,
                reference={"user": {"aadObjectId": who.aad, "name": who.name}},
                created_at=at,
                updated_at=at,
            )
        )
        session.add(
            BotStateRecord(
                key=f"msteams/conversations/{who.conversation}",
                etag="e",
                data=f'{{"who": "{who.marker}"}}',
                updated_at=at,
            )
        )
        await session.flush()
        choice = PhoneChoice(
            aad_object_id=who.aad,
            option="free_choice",
            status="delivered",
            model_name="Puhelin X",
            price_cents=74_800,
            employee_share_cents=24_000,
            instalment_count=24,
            instalment_cents=1_000,
            first_instalment_cents=1_000,
            consent_token=uuid.uuid4().hex,
            consented_at=at,
            created_at=at,
        )
        session.add(choice)
        await session.flush()
        plan = DeductionPlan(
            aad_object_id=who.aad,
            choice_id=choice.id,
            source="choice",
            model_name="Puhelin X",
            total_cents=24_000,
            instalment_count=24,
            first_instalment_cents=1_000,
            instalment_cents=1_000,
            first_month=date(2025, 1, 1),
            created_at=at,
        )
        session.add(plan)
        await session.flush()
        for month in range(paid_months):
            session.add(
                PayrollPosting(
                    plan_id=plan.id,
                    period=date(2025 + month // 12, month % 12 + 1, 1),
                    amount_cents=1_000,
                    import_id=1,
                )
            )
        session.add(
            PendingNotice(aad_object_id=who.aad, kind="phone_paid_off", created_at=at, sent_at=at)
        )
        session.add(
            Notification(
                campaign_id=1,
                recipient=who.aad,
                state="delivered",
                created_at=at,
                sent_at=at,
                updated_at=at,
            )
        )
        session.add(AnnouncementReceipt(campaign_id=1, aad_object_id=who.aad, acknowledged_at=at))
        ticket = Ticket(
            request_token=uuid.uuid4().hex,
            requester_aad=who.aad,
            requester_name=who.name,
            requester_language="fi",
            topic="other",
            description=f"Kysymys {who.marker}",
            state="resolved",
            assignee_aad=handler.aad if handler else None,
            assignee_name=handler.name if handler else None,
            created_at=at,
            updated_at=at,
            resolved_at=at,
        )
        session.add(ticket)
        await session.flush()
        session.add(TicketEvent(ticket_id=ticket.id, kind="created", at=at))
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="replied",
                actor_aad=handler.aad if handler else None,
                actor_name=handler.name if handler else None,
                text=f"Vastaus {who.marker}",
                at=at + timedelta(hours=1),
            )
        )
        question = FaqQuestion(
            text=f"Milloin {who.marker}?",
            language="fi",
            band="answer",
            topic_id="when",
            score=0.9,
            asked_at=at,
            asker_aad=who.aad,
        )
        session.add(question)
        await session.flush()
        session.add(
            FaqFeedback(question_id=question.id, topic_id="when", helpful=True, given_at=at)
        )
        session.add(
            AuditEvent(
                at=at, actor="cli:ict", channel="cli", action="choices.export", subject=who.aad
            )
        )
