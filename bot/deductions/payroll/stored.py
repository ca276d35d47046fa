"""What payroll's steps read from the database: plans with their employees, and their postings.

Reads are in bulk and in chunks, so that a two-year file for the whole city stays a few queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.db.base import Base
from bot.deductions import ledger
from bot.deductions.models import DeductionPlan, PayrollPosting
from bot.directory.models import Employee

# Keys per IN list and rows per INSERT: well below SQLite's 32 766 and asyncpg's 32 767
# parameters, and it keeps the parameter lists of a 153 600-row file small in memory.
CHUNK = 5_000
_KEY = TypeVar("_KEY")


@dataclass(frozen=True, slots=True)
class Person:
    """The employee behind a payroll row or a plan."""

    aad_object_id: str
    number: str | None
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A deduction plan as payroll's steps need it: its terms and its employee."""

    id: int
    choice_id: int | None
    model_name: str
    terms: ledger.PlanTerms
    person: Person


def chunks(items: Iterable[_KEY], size: int = CHUNK) -> Iterator[list[_KEY]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def people_by_number(session: AsyncSession, numbers: Collection[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for chunk in chunks(sorted(numbers)):
        result = await session.execute(
            select(
                Employee.employee_number,
                Employee.aad_object_id,
                Employee.display_name,
                Employee.account_enabled,
            ).where(Employee.employee_number.in_(chunk))
        )
        for number, aad_object_id, name, enabled in result:
            if number is not None:
                found[number] = Person(aad_object_id, number, name, enabled)
    return found


_PLAN_COLUMNS = (
    DeductionPlan.id,
    DeductionPlan.aad_object_id,
    DeductionPlan.choice_id,
    DeductionPlan.model_name,
    DeductionPlan.total_cents,
    DeductionPlan.instalment_count,
    DeductionPlan.first_instalment_cents,
    DeductionPlan.instalment_cents,
    DeductionPlan.first_month,
    Employee.employee_number,
    Employee.display_name,
    Employee.account_enabled,
)


async def select_plans(
    session: AsyncSession,
    *where: ColumnElement[bool],
    keys: tuple[QueryableAttribute[Any], Collection[Any]] | None = None,
) -> list[StoredPlan]:
    """Plans with their employees, filtered by `where` and by `keys`: (column, values)."""
    statement = (
        select(*_PLAN_COLUMNS)
        .join(Employee, Employee.aad_object_id == DeductionPlan.aad_object_id)
        .where(*where)
    )
    if keys is None:
        statements = [statement]
    else:
        column, values = keys
        statements = [statement.where(column.in_(chunk)) for chunk in chunks(sorted(values))]
    plans = []
    for current in statements:
        for row in await session.execute(current):
            terms = ledger.PlanTerms(
                total_cents=row.total_cents,
                instalment_count=row.instalment_count,
                first_instalment_cents=row.first_instalment_cents,
                instalment_cents=row.instalment_cents,
                first_month=row.first_month,
            )
            person = Person(
                row.aad_object_id, row.employee_number, row.display_name, row.account_enabled
            )
            plans.append(StoredPlan(row.id, row.choice_id, row.model_name, terms, person))
    return plans


async def plans_of(
    session: AsyncSession, people: Mapping[str, Person]
) -> dict[str, list[StoredPlan]]:
    """Each person's plans, newest schedule first."""
    aad_ids = {person.aad_object_id for person in people.values()}
    plans: dict[str, list[StoredPlan]] = defaultdict(list)
    for plan in await select_plans(session, keys=(DeductionPlan.aad_object_id, aad_ids)):
        plans[plan.person.aad_object_id].append(plan)
    for own in plans.values():
        own.sort(key=lambda plan: (plan.terms.first_month, plan.id), reverse=True)
    return plans


async def postings_of(
    session: AsyncSession, plan_ids: Collection[int] | None
) -> dict[int, dict[date, tuple[int, int]]]:
    """Every posting of the plans (all plans if None): period -> (posting id, amount)."""
    found: dict[int, dict[date, tuple[int, int]]] = {plan_id: {} for plan_id in plan_ids or ()}
    table = core_table(PayrollPosting)
    statement = select(table.c.id, table.c.plan_id, table.c.period, table.c.amount_cents)
    statements = (
        [statement]
        if plan_ids is None
        else [statement.where(table.c.plan_id.in_(chunk)) for chunk in chunks(sorted(plan_ids))]
    )
    for current in statements:
        for posting_id, plan_id, period, amount in (await session.execute(current)).all():
            found.setdefault(plan_id, {})[period] = (posting_id, amount)
    return found


def core_table(model: type[Base]) -> Table:
    """The Core table of a model: bulk statements without ORM bookkeeping per row."""
    return Base.metadata.tables[model.__tablename__]


def amounts_of(postings: Mapping[date, tuple[int, int]]) -> dict[date, int]:
    return {period: amount for period, (_, amount) in postings.items()}
