"""An employee's own deduction status, and the plan that starts when a phone is delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices import lifecycle
from bot.choices.cost import first_deduction_month
from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.clock import helsinki_today
from bot.db.sessions import SessionFactory
from bot.deductions import ledger
from bot.deductions.models import DeductionPlan, PayrollPosting, PendingNotice
from bot.notifications import outbox
from bot.notifications.delivery import Outgoing
from bot.refusal import Refused


class DeductionKind(StrEnum):
    NO_CHOICE = "no_choice"
    PORI_PHONE = "pori_phone"
    NO_SHARE = "no_share"  # a Free Choice model at or below the base price
    NOT_DELIVERED = "not_delivered"  # chosen; the plan starts when the phone is delivered
    PAYING = "paying"
    PAID_OFF = "paid_off"


@dataclass(frozen=True)
class MyDeductions:
    kind: DeductionKind
    model_name: str | None = None
    terms: ledger.PlanTerms | None = None
    status: ledger.LedgerStatus | None = None
    first_month: date | None = None


class DeliveryError(Refused):
    """The choice cannot be marked delivered (unknown, or not chosen/ordered); nothing changed."""

    catalog = "delivery_problem"


class DeductionReader:
    """What the 'my deductions' conversation reads, one short transaction per call."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def for_employee(self, aad_object_id: str) -> MyDeductions:
        async with self._sessions() as session:
            return await my_deductions(session=session, aad_object_id=aad_object_id)


def terms_of(plan: DeductionPlan) -> ledger.PlanTerms:
    return ledger.PlanTerms(
        total_cents=plan.total_cents,
        instalment_count=plan.instalment_count,
        first_instalment_cents=plan.first_instalment_cents,
        instalment_cents=plan.instalment_cents,
        first_month=plan.first_month,
    )


async def postings_of(*, session: AsyncSession, plan_id: int) -> dict[date, int]:
    rows = await session.execute(
        select(PayrollPosting.period, PayrollPosting.amount_cents).where(
            PayrollPosting.plan_id == plan_id
        )
    )
    return {period: amount for period, amount in rows}


async def my_deductions(*, session: AsyncSession, aad_object_id: str) -> MyDeductions:
    """The employee's newest plan as the ledger stands, or plainly what applies instead."""
    plan = await session.scalar(
        select(DeductionPlan)
        .where(DeductionPlan.aad_object_id == aad_object_id)
        .order_by(DeductionPlan.first_month.desc(), DeductionPlan.id.desc())
        .limit(1)
    )
    choice = await session.scalar(
        select(PhoneChoice)
        .where(
            PhoneChoice.aad_object_id == aad_object_id,
            PhoneChoice.status.in_(
                [
                    ChoiceStatus.CHOSEN.value,
                    ChoiceStatus.ORDERED.value,
                    ChoiceStatus.DELIVERED.value,
                    ChoiceStatus.PAID_OFF.value,
                ]
            ),
        )
        .order_by(PhoneChoice.id.desc())
        .limit(1)
    )
    if plan is not None:
        terms = terms_of(plan)
        through = await session.scalar(select(func.max(PayrollPosting.period)))
        postings = await postings_of(session=session, plan_id=plan.id)
        status = ledger.status(terms, postings, through=through)
        # An unpaid plan always shows; once paid off, a newer choice is what applies.
        if not status.paid_off or not _chose_again(plan, choice):
            kind = DeductionKind.PAID_OFF if status.paid_off else DeductionKind.PAYING
            return MyDeductions(kind, plan.model_name, terms, status, plan.first_month)
    if choice is None:
        return MyDeductions(DeductionKind.NO_CHOICE)
    if choice.option == ChoiceOption.PORI_PHONE.value:
        return MyDeductions(DeductionKind.PORI_PHONE)
    if choice.employee_share_cents == 0:
        return MyDeductions(DeductionKind.NO_SHARE, choice.model_name)
    return MyDeductions(
        DeductionKind.NOT_DELIVERED, choice.model_name, first_month=choice.first_deduction_month
    )


async def deliver_choice(
    *, session: AsyncSession, choice_id: int, now: datetime
) -> DeductionPlan | None:
    """ICT marks an order delivered; a Free Choice with a share gets its deduction plan.

    The plan takes the figures the employee accepted, never today's catalog.
    """
    choice = await session.get(PhoneChoice, choice_id, with_for_update=True)
    if choice is None:
        raise DeliveryError("no_choice", choice=str(choice_id))
    try:
        lifecycle.deliver(choice, now)
    except lifecycle.NotAllowed as error:
        raise DeliveryError(
            "not_deliverable", choice=str(choice_id), status=choice.status
        ) from error
    if choice.option != ChoiceOption.FREE_CHOICE.value or choice.employee_share_cents == 0:
        return None
    if choice.first_deduction_month is None:
        raise DeliveryError("no_first_month", choice=str(choice_id))
    # Deductions never start before the phone is in hand: a late delivery moves the first
    # month later (never earlier than what the employee accepted).
    earliest = first_deduction_month(helsinki_today(now), delay_months=1)
    first_month = max(choice.first_deduction_month, earliest)
    plan = DeductionPlan(
        aad_object_id=choice.aad_object_id,
        choice_id=choice.id,
        source="choice",
        model_name=choice.model_name or "",
        total_cents=choice.employee_share_cents,
        instalment_count=choice.instalment_count,
        first_instalment_cents=choice.first_instalment_cents,
        instalment_cents=choice.instalment_cents,
        first_month=first_month,
        created_at=now,
    )
    session.add(plan)
    await session.flush()
    return plan


def _chose_again(plan: DeductionPlan, choice: PhoneChoice | None) -> bool:
    """A choice made after this plan began (its phone paid off) is what applies now."""
    if choice is None or choice.id == plan.choice_id:
        return False
    return plan.choice_id is None or choice.id > plan.choice_id


@dataclass(frozen=True)
class Notice:
    kind: str
    payload: dict[str, Any]
    id: int = 0


async def pending_notices(*, session: AsyncSession, aad_object_id: str) -> list[Notice]:
    """Life events waiting for this employee; marked sent only once they have been sent."""
    rows = await session.scalars(
        select(PendingNotice)
        .where(PendingNotice.aad_object_id == aad_object_id, PendingNotice.sent_at.is_(None))
        .order_by(PendingNotice.id)
    )
    return [Notice(row.kind, dict(row.payload or {}), row.id) for row in rows]


async def mark_notice_sent(*, session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """True for the one turn that marks it, so two racing turns never both keep it."""
    result = await session.execute(
        update(PendingNotice)
        .where(PendingNotice.id == notice_id, PendingNotice.sent_at.is_(None))
        .values(sent_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


LIFE_EVENT = "life_event"


async def plan_life_event_notices(*, session: AsyncSession, now: datetime) -> int:
    """Puts every unsent life event in the outbox, so it is told without waiting for a message.

    One campaign per notice (keyed by its id), so planning again adds nothing; whichever comes
    first, the outbox or the employee's next message, tells it, and the other sees it sent.
    """
    added = 0
    for notice in await session.scalars(
        select(PendingNotice).where(PendingNotice.sent_at.is_(None)).order_by(PendingNotice.id)
    ):
        campaign = await outbox.create_campaign(
            session=session,
            key=f"notice-{notice.id}",
            kind=LIFE_EVENT,
            payload={"notice_id": notice.id},
            title=f"elämäntapahtuma: {notice.kind}",
            now=now,
        )
        added += await outbox.top_up(
            session=session, campaign=campaign, recipients=[notice.aad_object_id], now=now
        )
    return added


async def unsent_notice(*, session: AsyncSession, notice_id: int) -> Notice | None:
    notice = await session.get(PendingNotice, notice_id)
    if notice is None or notice.sent_at is not None:
        return None
    return Notice(notice.kind, dict(notice.payload or {}), notice.id)


async def notice_to_tell(session: AsyncSession, outgoing: Outgoing, now: datetime) -> Notice | None:
    """The life event an outbox row tells; None once it has been told in a chat."""
    return await unsent_notice(session=session, notice_id=int(outgoing.payload["notice_id"]))


async def mark_told(session: AsyncSession, outgoing: Outgoing, now: datetime) -> None:
    """Marked after the send: a crash in between can tell it twice, never lose it."""
    await mark_notice_sent(session=session, notice_id=int(outgoing.payload["notice_id"]), now=now)
