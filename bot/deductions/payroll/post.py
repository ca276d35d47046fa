"""Payroll's monthly deduction file posted to the ledger: all of it in one go, or nothing.

A file with any problem changes nothing; the same file twice changes nothing; a row whose amount
differs from the stored posting replaces it and is kept as a correction; the PayrollImport row is
the record of what a file changed. Nothing here logs: amounts reach ICT only through the CLI
reports.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices import lifecycle
from bot.deductions import ledger
from bot.deductions.models import (
    DeductionPlan,
    PayrollCorrection,
    PayrollImport,
    PayrollPosting,
    PendingNotice,
)
from bot.deductions.payroll.parse import (
    PayrollFile,
    PayrollFileError,
    PayrollRow,
    Problem,
    RowReference,
    month_label,
)
from bot.deductions.payroll.report import ReconciliationLine, reconcile_plans
from bot.deductions.payroll.stored import (
    StoredPlan,
    amounts_of,
    chunks,
    core_table,
    people_by_number,
    plans_of,
    postings_of,
    select_plans,
)
from bot.directory.models import Employee

PAID_OFF_NOTICE = "phone_paid_off"
FILE_NAME_LIMIT = 500


@dataclass(frozen=True)
class PayrollResult:
    """What an import did (or would do, if the caller rolls back)."""

    file_name: str
    sha256: str
    rows: int
    added: int
    corrected: int
    unchanged: int
    import_id: int | None  # None: nothing changed, and no import was recorded
    earlier_import_id: int | None  # an earlier import of a file with the same bytes
    paid_off_plan_ids: tuple[int, ...]
    reopened_plan_ids: tuple[int, ...]  # paid off before, owing again after a correction
    reconciliation: tuple[ReconciliationLine, ...]

    @property
    def changed(self) -> bool:
        return self.import_id is not None


async def import_payroll(
    *, session: AsyncSession, payroll_file: PayrollFile, file_name: str, now: datetime
) -> PayrollResult:
    """Post the file to the ledger in the caller's transaction, or raise before writing anything.

    Each row goes to the employee's plan whose schedule covers its period: the newest plan with
    first_month <= period. Reads are done in bulk: employees, plans, and the plans' postings.
    """
    if await _is_postgresql(session):
        # Imports one at a time, so corrections and paid-off notices are decided on current data;
        # reading the ledger is not blocked.
        await session.execute(text("LOCK TABLE payroll_posting IN SHARE ROW EXCLUSIVE MODE"))
    columns = payroll_file.columns
    problems = list(payroll_file.problems)
    references: list[RowReference | PayrollRow] = [*payroll_file.rows, *payroll_file.incomplete]
    people = await people_by_number(session, {row.employee_number for row in references})
    plans = await plans_of(session, people)

    resolved: list[tuple[PayrollRow, StoredPlan]] = []
    for row in references:
        person = people.get(row.employee_number)
        if person is None:
            named = {"employee": row.employee_number}
            problems.append(
                Problem(row.line, columns.employee_number, "payroll.unknown_employee", named)
            )
            continue
        own = plans.get(person.aad_object_id)
        if not own:
            named = {"employee": row.employee_number}
            problems.append(Problem(row.line, columns.employee_number, "payroll.no_plan", named))
            continue
        if row.period is None:
            continue
        plan = (
            own[0]  # the usual case: one plan, or the newest has begun
            if own[0].terms.first_month <= row.period
            else next((plan for plan in own if plan.terms.first_month <= row.period), None)
        )
        if plan is None:
            first = month_label(min(plan.terms.first_month for plan in own))
            named = {"employee": row.employee_number, "first": first}
            problems.append(Problem(row.line, columns.period, "payroll.no_plan_for_period", named))
        elif isinstance(row, PayrollRow):
            resolved.append((row, plan))
    if problems:
        raise PayrollFileError(problems)

    touched = {plan.id: plan for _, plan in resolved}
    stored = await postings_of(session, touched)
    added: list[tuple[int, PayrollRow]] = []  # plan id, row
    corrected: list[tuple[int, PayrollRow, int, int]] = []  # plan id, row, posting id, old amount
    for row, plan in resolved:
        existing = stored[plan.id].get(row.period)
        if existing is None:
            added.append((plan.id, row))
        elif existing[1] != row.amount_cents:
            corrected.append((plan.id, row, *existing))
    earlier = await session.scalar(
        select(func.min(PayrollImport.id)).where(PayrollImport.sha256 == payroll_file.sha256)
    )
    before = {plan_id: amounts_of(postings) for plan_id, postings in stored.items()}
    del stored
    changes = [*added, *((plan_id, row) for plan_id, row, _, _ in corrected)]
    changed = {plan_id for plan_id, _ in changes}
    after = before | {plan_id: dict(before[plan_id]) for plan_id in changed}  # copies if changed
    for plan_id, changed_row in changes:
        after[plan_id][changed_row.period] = changed_row.amount_cents

    import_id: int | None = None
    paid_off: list[StoredPlan] = []
    reopened: list[StoredPlan] = []
    if added or corrected:
        record = PayrollImport(
            file_name=file_name[:FILE_NAME_LIMIT],
            sha256=payroll_file.sha256,
            rows=payroll_file.row_count,
            added=len(added),
            corrected=len(corrected),
            imported_at=now,
        )
        session.add(record)
        await session.flush()
        import_id = record.id
        await _insert_postings(session, added, import_id, now)
        await _correct_postings(session, corrected, import_id, now)
        paid_off = [
            touched[plan_id]
            for plan_id in sorted(changed)
            if ledger.status(touched[plan_id].terms, after[plan_id]).paid_off
            and not ledger.status(touched[plan_id].terms, before[plan_id]).paid_off
        ]
        await _mark_paid_off(session, paid_off, now)
        reopened = [
            touched[plan_id]
            for plan_id in sorted(changed)
            if ledger.status(touched[plan_id].terms, before[plan_id]).paid_off
            and not ledger.status(touched[plan_id].terms, after[plan_id]).paid_off
        ]
        await _reopen(session, reopened, now)

    through = max((row.period for row, _ in resolved), default=None)
    due = await _due_plans(session, through, exclude=touched.keys()) if through else {}
    due_postings = {
        plan_id: amounts_of(p) for plan_id, p in (await postings_of(session, due)).items()
    }
    lines = reconcile_plans(
        chain(touched.values(), due.values()), after | due_postings, through=through
    )
    unchanged = len(resolved) - len(added) - len(corrected)
    return PayrollResult(
        file_name=file_name,
        sha256=payroll_file.sha256,
        rows=payroll_file.row_count,
        added=len(added),
        corrected=len(corrected),
        unchanged=unchanged,
        import_id=import_id,
        earlier_import_id=earlier,
        paid_off_plan_ids=tuple(sorted(plan.id for plan in paid_off)),
        reopened_plan_ids=tuple(sorted(plan.id for plan in reopened)),
        reconciliation=tuple(lines),
    )


async def _is_postgresql(session: AsyncSession) -> bool:
    connection = await session.connection()
    return connection.dialect.name == "postgresql"


_POSTING_COLUMNS = ("plan_id", "period", "amount_cents", "import_id", "updated_at")


async def _insert_postings(
    session: AsyncSession, added: Sequence[tuple[int, PayrollRow]], import_id: int, now: datetime
) -> None:
    """New postings in bulk: COPY on PostgreSQL (asyncpg), a multi-row INSERT elsewhere."""
    records = [(plan_id, row.period, row.amount_cents, import_id, now) for plan_id, row in added]
    connection = await session.connection()
    if connection.dialect.driver == "asyncpg":
        # Half the time of executemany for a two-year file (benchmarks/payroll_import.py). It
        # runs on the session's connection, inside its transaction.
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            PayrollPosting.__tablename__, records=records, columns=_POSTING_COLUMNS
        )
        return
    table = core_table(PayrollPosting)
    for chunk in chunks(records):
        await session.execute(
            insert(table), [dict(zip(_POSTING_COLUMNS, record, strict=True)) for record in chunk]
        )


async def _correct_postings(
    session: AsyncSession,
    corrected: Sequence[tuple[int, PayrollRow, int, int]],
    import_id: int,
    now: datetime,
) -> None:
    """Replace the amounts of stored postings, each change kept as a PayrollCorrection."""
    for changes in chunks(corrected):
        await session.execute(
            update(PayrollPosting),
            [
                {
                    "id": posting_id,
                    "amount_cents": row.amount_cents,
                    "import_id": import_id,
                    "updated_at": now,
                }
                for _, row, posting_id, _ in changes
            ],
        )
        await session.execute(
            insert(core_table(PayrollCorrection)),
            [
                {
                    "posting_id": posting_id,
                    "old_amount_cents": old,
                    "new_amount_cents": row.amount_cents,
                    "import_id": import_id,
                    "corrected_at": now,
                }
                for _, row, posting_id, old in changes
            ],
        )


async def _mark_paid_off(session: AsyncSession, plans: Sequence[StoredPlan], now: datetime) -> None:
    """The phone is now the employee's: close the choice, and keep one notice per plan."""
    for choice_ids in chunks([plan.choice_id for plan in plans if plan.choice_id is not None]):
        await lifecycle.pay_off(session=session, choice_ids=choice_ids, now=now)
    noticed: set[int] = set()
    for chunk in chunks(sorted({plan.person.aad_object_id for plan in plans})):
        payloads = await session.scalars(
            select(PendingNotice.payload).where(
                PendingNotice.kind == PAID_OFF_NOTICE, PendingNotice.aad_object_id.in_(chunk)
            )
        )
        noticed.update(payload.get("plan_id") for payload in payloads if payload)
    notices = [
        {
            "aad_object_id": plan.person.aad_object_id,
            "kind": PAID_OFF_NOTICE,
            "payload": {"model_name": plan.model_name, "plan_id": plan.id},
            "created_at": now,
        }
        for plan in plans
        if plan.id not in noticed
    ]
    for batch in chunks(notices):
        await session.execute(insert(core_table(PendingNotice)), batch)


async def _reopen(session: AsyncSession, plans: Sequence[StoredPlan], now: datetime) -> None:
    """A correction left money owing: the phone is not the employee's yet after all."""
    for choice_ids in chunks([plan.choice_id for plan in plans if plan.choice_id is not None]):
        await lifecycle.reopen_paid_off(session=session, choice_ids=choice_ids, now=now)


async def _due_plans(
    session: AsyncSession, through: date, *, exclude: Collection[int]
) -> dict[int, StoredPlan]:
    """Plans of active employees whose schedule has begun by `through`, not in `exclude`."""
    plans = await select_plans(
        session, DeductionPlan.first_month <= through, Employee.account_enabled.is_(True)
    )
    return {plan.id: plan for plan in plans if plan.id not in exclude}
