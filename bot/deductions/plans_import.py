"""Deduction plans that began before the bot: imported once from payroll's list, all or nothing.

Columns (`;`-separated, header row, UTF-8 or Latin-1): henkilonumero; malli; osuus (the
employee's share in euros, 250,00); erat (number of instalments); ensimmainen_kausi (2026-11).
The instalments are split as for any Free Choice: equal, the remainder on the first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices.cost import split_evenly
from bot.choices.models import OPEN_STATUSES, PhoneChoice
from bot.deductions.models import DeductionPlan
from bot.deductions.payroll.parse import parse_amount
from bot.directory.models import Employee
from bot.numbers import payload_int
from bot.refusal import Reason, Value
from bot.spreadsheet import (
    Problem,
    SpreadsheetError,
    decode_spreadsheet,
    fold_header,
    parse_month,
    tab_separated,
)

COLUMNS = ("henkilonumero", "malli", "osuus", "erat", "ensimmainen_kausi")
MAX_INSTALMENTS = 120


class PlanFileError(SpreadsheetError):
    """The file was not imported; every problem is listed, by line."""


@dataclass(frozen=True)
class ExistingPlan:
    line: int
    employee_number: str
    model_name: str
    share_cents: int
    instalments: int
    first_month: date


def parse_plan_file(path: Path) -> list[ExistingPlan]:
    """Every row, or every problem of the file at once."""
    try:
        text = decode_spreadsheet(path.read_bytes(), PlanFileError)
        delimiter = "\t" if tab_separated(text) else ";"
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except OSError as error:
        unreadable = Problem(0, "", "file.unreadable", {"reason": str(error)})
        raise PlanFileError([unreadable]) from error
    except csv.Error as error:
        invalid = Problem(0, "", "plans.invalid_csv", {"reason": str(error)})
        raise PlanFileError([invalid]) from error
    if not rows or [fold_header(cell) for cell in rows[0]] != [fold_header(c) for c in COLUMNS]:
        expected = {"expected": ";".join(COLUMNS)}
        raise PlanFileError([Problem(1, "", "plans.wrong_header", expected)])
    plans: list[ExistingPlan] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(Problem(line, "", "plans.wrong_cells", {"columns": len(COLUMNS)}))
            continue
        number, model, share, count, first = (cell.strip() for cell in row)
        found = [
            problem
            for problem in (
                _required(line, "henkilonumero", number),
                _required(line, "malli", model),
            )
            if problem
        ]
        cents = parse_amount(share)
        if isinstance(cents, Reason):
            found.append(Problem(line, "osuus", cents.key, cents.values))
        elif cents == 0:
            found.append(Problem(line, "osuus", "plans.zero_share"))
        instalments = payload_int(count) or 0
        if not 1 <= instalments <= MAX_INSTALMENTS:
            allowed: dict[str, Value] = {"value": count, "most": MAX_INSTALMENTS}
            found.append(Problem(line, "erat", "plans.instalments", allowed))
        month = parse_month(first)
        if isinstance(month, Reason):
            found.append(Problem(line, "ensimmainen_kausi", month.key, month.values))
        if number in seen:
            earlier = {"line": str(seen[number])}
            found.append(Problem(line, "henkilonumero", "plans.same_person", earlier))
        seen.setdefault(number, line)
        problems += found
        if not found and isinstance(cents, int) and isinstance(month, date):
            plans.append(ExistingPlan(line, number, model, cents, instalments, month))
    if problems:
        raise PlanFileError(problems)
    if not plans:
        raise PlanFileError([Problem(0, "", "plans.no_plans")])
    return plans


async def import_plans(*, session: AsyncSession, plans: list[ExistingPlan], now: datetime) -> int:
    """Create the plans in the caller's transaction; any problem raises before writing."""
    numbers = [plan.employee_number for plan in plans]
    people = {
        number: aad
        for number, aad in await session.execute(
            select(Employee.employee_number, Employee.aad_object_id).where(
                Employee.employee_number.in_(numbers)
            )
        )
    }
    planned = set(
        await session.scalars(
            select(DeductionPlan.aad_object_id).where(
                DeductionPlan.aad_object_id.in_(list(people.values()))
            )
        )
    )
    choosing = set(
        await session.scalars(
            select(PhoneChoice.aad_object_id).where(
                PhoneChoice.aad_object_id.in_(list(people.values())),
                PhoneChoice.status.in_([status.value for status in OPEN_STATUSES]),
            )
        )
    )
    problems = []
    for plan in plans:
        aad = people.get(plan.employee_number)
        if aad is None:
            problems.append(Problem(plan.line, "henkilonumero", "plans.unknown_employee"))
        elif aad in planned:
            problems.append(Problem(plan.line, "henkilonumero", "plans.has_plan"))
        elif aad in choosing:
            problems.append(Problem(plan.line, "henkilonumero", "plans.choosing"))
    if problems:
        raise PlanFileError(problems)
    for plan in plans:
        # The plan's own count, as agreed before the bot: the minimum instalment is not applied.
        first, regular = split_evenly(plan.share_cents, plan.instalments)
        session.add(
            DeductionPlan(
                aad_object_id=people[plan.employee_number],
                choice_id=None,
                source="import",
                model_name=plan.model_name,
                total_cents=plan.share_cents,
                instalment_count=plan.instalments,
                first_instalment_cents=first,
                instalment_cents=regular,
                first_month=plan.first_month,
                created_at=now,
            )
        )
    await session.flush()
    return len(plans)


def _required(line: int, column: str, value: str) -> Problem | None:
    return None if value else Problem(line, column, "cell.missing")
