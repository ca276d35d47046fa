"""ICT's payroll reports: postings that differ from the schedule, and what leavers still owe."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deductions import ledger
from bot.deductions.models import DeductionPlan, PayrollPosting
from bot.deductions.payroll.stored import StoredPlan, amounts_of, postings_of, select_plans
from bot.directory.models import Employee


@dataclass(frozen=True)
class ReconciliationLine:
    """A plan whose posted amounts differ from its schedule in one period (ICT's report)."""

    plan_id: int
    employee_number: str | None
    employee_name: str
    model_name: str
    kind: str  # "missed", "wrong_amount", "after_paid_off"
    period: date
    expected_cents: int
    posted_cents: int


@dataclass(frozen=True)
class LeaverLine:
    """A plan with a balance whose employee has left: the amount for the final pay."""

    plan_id: int
    employee_number: str | None
    employee_name: str
    model_name: str
    total_cents: int
    paid_cents: int
    remaining_cents: int
    last_period: date | None


async def reconciliation_report(
    *,
    session: AsyncSession,
    plan_ids: Collection[int] | None = None,
    through: date | None = None,
) -> list[ReconciliationLine]:
    """Plans whose postings differ from the schedule: missed months, wrong amounts, deductions
    after payoff. Months up to `through` (default: the newest period payroll has posted for
    anyone) without a deduction count as missed for plans not yet paid off."""
    if through is None:
        through = await session.scalar(select(func.max(PayrollPosting.period)))
    plans = await _all_plans(session, plan_ids)
    postings = await postings_of(session, None if plan_ids is None else list(plans))
    amounts = {plan_id: amounts_of(postings.get(plan_id, {})) for plan_id in plans}
    return reconcile_plans(plans.values(), amounts, through=through)


async def leavers_report(*, session: AsyncSession) -> list[LeaverLine]:
    """Plans with a balance whose employee's account is disabled: what the final pay must cover."""
    plans = await _all_plans(session, None, leavers_only=True)
    postings = await postings_of(session, list(plans))
    lines = []
    for plan in plans.values():
        amounts = amounts_of(postings[plan.id])
        status = ledger.status(plan.terms, amounts)
        if status.remaining_cents <= 0:
            continue
        posted = [period for period, amount in amounts.items() if amount > 0]
        lines.append(
            LeaverLine(
                plan_id=plan.id,
                employee_number=plan.person.number,
                employee_name=plan.person.name,
                model_name=plan.model_name,
                total_cents=plan.terms.total_cents,
                paid_cents=status.paid_cents,
                remaining_cents=status.remaining_cents,
                last_period=max(posted, default=None),
            )
        )
    lines.sort(key=lambda line: (line.employee_number or "", line.plan_id))
    return lines


async def _all_plans(
    session: AsyncSession, plan_ids: Collection[int] | None, *, leavers_only: bool = False
) -> dict[int, StoredPlan]:
    """Plans with their employees: the given ones, or all (only leavers' if asked)."""
    where = [Employee.account_enabled.is_(False)] if leavers_only else []
    keys = None if plan_ids is None else (DeductionPlan.id, plan_ids)
    return {plan.id: plan for plan in await select_plans(session, *where, keys=keys)}


def reconcile_plans(
    plans: Iterable[StoredPlan], postings: Mapping[int, Mapping[date, int]], *, through: date | None
) -> list[ReconciliationLine]:
    lines = [
        ReconciliationLine(
            plan_id=plan.id,
            employee_number=plan.person.number,
            employee_name=plan.person.name,
            model_name=plan.model_name,
            kind=found.kind,
            period=found.period,
            expected_cents=found.expected_cents,
            posted_cents=found.posted_cents,
        )
        for plan in plans
        for found in ledger.reconcile(
            plan.terms, postings.get(plan.id, {}), through=through if plan.person.active else None
        )
    ]
    lines.sort(key=lambda line: (line.employee_number or "", line.plan_id, line.period))
    return lines
