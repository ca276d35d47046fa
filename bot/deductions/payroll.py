"""Payroll's monthly deduction file: checked in full, then posted to the ledger in one go.

The file is CSV with `;` separators (or Excel's tab-separated "Unicode text") and decimal commas,
one row per employee number and pay period with the amount deducted. A file with any problem
changes nothing; the same file twice changes nothing; a row whose amount differs from the stored
posting replaces it and is kept as a correction; the PayrollImport row is the record of what a
file changed. Nothing here logs: amounts reach ICT only through the CLI reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.choices import lifecycle
from bot.db.base import Base
from bot.deductions import ledger
from bot.deductions.models import (
    DeductionPlan,
    PayrollCorrection,
    PayrollImport,
    PayrollPosting,
    PendingNotice,
)
from bot.directory.models import Employee
from bot.numbers import payload_int
from bot.text_files import UnreadableText, decode_spreadsheet, tab_separated

if TYPE_CHECKING:
    from _csv import Reader

PAID_OFF_NOTICE = "phone_paid_off"
HEADER_LINE = 1
YEARS = range(2000, 2100)
MAX_AMOUNT_CENTS = 1_000_000  # 10 000 €: more than any phone's share; a larger one is a typo
FILE_NAME_LIMIT = 500
# Keys per IN list and rows per INSERT: well below SQLite's 32 766 and asyncpg's 32 767
# parameters, and it keeps the parameter lists of a 153 600-row file small in memory.
CHUNK = 5_000

# ASCII digits only: \d would take other scripts' digits too, and int() reads them.
_PERIOD_ISO = re.compile(r"([0-9]{4})-([0-9]{2})")
_PERIOD_SLASH = re.compile(r"([0-9]{1,2})/([0-9]{4})")
_AMOUNT = re.compile(
    r"(?P<sign>[-+]?)\s*"
    r"(?P<whole>[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]{1,3}(?:\.[0-9]{3})+(?=,)|[0-9]+)"
    r"(?:[.,](?P<fraction>[0-9]+))?"
)
_CURRENCY = re.compile(r"\s*(?:€|eur(?:oa?)?)$", re.IGNORECASE)
_ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a"})
_KEY = TypeVar("_KEY")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file; line as an editor numbers it (0 = the file as a whole)."""

    line: int
    column: str
    message: str


class PayrollFileError(Exception):
    """The file cannot be imported; every problem found is listed, sorted by line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(self._line(problem) for problem in self.problems)

    @staticmethod
    def _line(problem: Problem) -> str:
        where = f"rivi {problem.line}" if problem.line else "tiedosto"
        if problem.column:
            where += f', sarake "{problem.column}"'
        return f"{where}: {problem.message}"


@dataclass(frozen=True)
class PayrollColumns:
    """The header names of the three columns; compared without case, ä/ö/å or punctuation."""

    employee_number: str = "henkilonumero"
    period: str = "palkkakausi"
    amount: str = "summa"


DEFAULT_COLUMNS = PayrollColumns()


class PayrollRow(NamedTuple):
    """One valid row: the amount deducted from one employee in one pay period (first of month)."""

    line: int
    employee_number: str
    period: date
    amount_cents: int


class RowReference(NamedTuple):
    """A row with a problem, kept so that its employee can still be checked against the DB."""

    line: int
    employee_number: str
    period: date | None


@dataclass(frozen=True)
class PayrollFile:
    """A payroll file as read. Row problems stay here for import_payroll to report with its own."""

    rows: tuple[PayrollRow, ...]
    sha256: str
    columns: PayrollColumns  # as the header spells them, for problem reports
    problems: tuple[Problem, ...] = ()
    incomplete: tuple[RowReference, ...] = ()

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.incomplete)

    @property
    def periods(self) -> list[date]:
        return sorted({row.period for row in self.rows})


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


# --- reading ---------------------------------------------------------------------------------


def parse_payroll_file(path: Path, columns: PayrollColumns = DEFAULT_COLUMNS) -> PayrollFile:
    """Read and check the file on its own; PayrollFileError if it cannot be read row by row.

    Problems in single rows do not raise here: they are kept in `problems`, so that
    import_payroll can report them together with the ones that need the database.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PayrollFileError(
            [Problem(0, "", f"tiedostoa ei voi lukea: {error.strerror or error}")]
        ) from error
    return parse_payroll_bytes(data, columns)


def parse_payroll_bytes(data: bytes, columns: PayrollColumns = DEFAULT_COLUMNS) -> PayrollFile:
    """parse_payroll_file for bytes already read."""
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise PayrollFileError([Problem(0, "", "tiedosto on tyhjä")])
    text = decode_file(data)
    delimiter = "\t" if tab_separated(text) else ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header: list[str] | None = None
        while header is None:
            record = next(reader, None)
            if record is None:
                raise PayrollFileError([Problem(0, "", "tiedosto on tyhjä")])
            if any(cell.strip() for cell in record):
                header = record
        header_line = reader.line_num
        indexes, shown = _header(header, header_line, columns)
        return _rows(reader, header, indexes, shown, digest)
    except csv.Error as error:
        message = f"CSV-tiedostoa ei voi lukea (rivi {reader.line_num}): {error}"
        raise PayrollFileError([Problem(0, "", message)]) from error


def decode_file(data: bytes) -> str:
    """As the catalog importer reads: UTF-8, Excel's UTF-16 "Unicode text", else Windows-1252."""
    try:
        return decode_spreadsheet(data)
    except UnreadableText as error:
        raise PayrollFileError([Problem(0, "", str(error))]) from error


def _fold(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.replace("\ufeff", "").lower().translate(_ASCII))


def _header(
    header: list[str], line: int, columns: PayrollColumns
) -> tuple[tuple[int, int, int], PayrollColumns]:
    """Where the three columns are, and their names as written; or every header problem."""
    wanted = {
        "employee_number": columns.employee_number,
        "period": columns.period,
        "amount": columns.amount,
    }
    problems: list[Problem] = []
    if len({_fold(name) for name in wanted.values()}) < len(wanted):
        problems.append(Problem(line, "", "sama sarakenimi on annettu kahdelle tiedolle"))
    found: dict[str, int] = {}
    for field, name in wanted.items():
        matches = [index for index, cell in enumerate(header) if _fold(cell) == _fold(name)]
        if not matches:
            written = "; ".join(cell.strip() for cell in header)
            hint = ""
            if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
                hint = "; erottimen pitää olla puolipiste (;)"
            problems.append(
                Problem(line, name, f"sarake puuttuu (otsikkorivillä: {written}){hint}")
            )
        elif len(matches) > 1:
            lines = ", ".join(str(index + 1) for index in matches)
            problems.append(
                Problem(line, name, f"sarake on otsikkorivillä monta kertaa (kohdat {lines})")
            )
        else:
            found[field] = matches[0]
    if problems:
        raise PayrollFileError(problems)
    shown = PayrollColumns(**{field: header[index].strip() for field, index in found.items()})
    return (found["employee_number"], found["period"], found["amount"]), shown


def _rows(
    reader: Reader,
    header: list[str],
    indexes: tuple[int, int, int],
    shown: PayrollColumns,
    digest: str,
) -> PayrollFile:
    number_at, period_at, amount_at = indexes
    needed = max(indexes) + 1
    rows: list[PayrollRow] = []
    incomplete: list[RowReference] = []
    problems: list[Problem] = []
    first_line: dict[tuple[str, date], int] = {}
    periods: dict[str, date | str] = {}  # memo: a file has few distinct periods and amounts
    amounts: dict[str, int | str] = {}
    for record in reader:
        line = reader.line_num  # the last line of the record just read
        if not "".join(record).strip():
            continue  # a blank line, or only separators
        ok = True
        cells = record
        if len(record) > len(header) and "".join(record[len(header) :]).strip():
            message = f"rivillä on {len(record)} arvoa mutta otsikkorivillä {len(header)}"
            problems.append(Problem(line, "", message))
            ok = False
        elif len(record) < needed:
            cells = record + [""] * (needed - len(record))

        number = cells[number_at].strip()
        if not number:
            problems.append(Problem(line, shown.employee_number, "henkilönumero puuttuu"))
            ok = False

        raw_period = cells[period_at]
        period = periods.get(raw_period)
        if period is None:
            period = periods[raw_period] = parse_period(raw_period)
        if isinstance(period, str):
            problems.append(Problem(line, shown.period, period))
            ok = False

        raw_amount = cells[amount_at]
        amount = amounts.get(raw_amount)
        if amount is None:
            amount = amounts[raw_amount] = parse_amount(raw_amount)
        if isinstance(amount, str):
            problems.append(Problem(line, shown.amount, amount))
            ok = False

        valid_period = period if isinstance(period, date) else None
        if number and valid_period is not None:
            first = first_line.setdefault((number, valid_period), line)
            if first != line:
                message = (
                    f"henkilönumerolla {number} on kaudelle {_month(valid_period)} jo rivi {first}"
                )
                problems.append(Problem(line, "", message))
                ok = False
        if ok and isinstance(amount, int) and valid_period is not None:
            rows.append(PayrollRow(line, number, valid_period, amount))
        elif number:
            incomplete.append(RowReference(line, number, valid_period))
    if not rows and not incomplete:
        problems.append(Problem(0, "", "tiedostossa ei ole yhtään riviä, vain otsikkorivi"))
        raise PayrollFileError(problems)
    return PayrollFile(tuple(rows), digest, shown, tuple(problems), tuple(incomplete))


def parse_period(raw: str) -> date | str:
    """The pay period as the first of its month, or the problem as shown to ICT."""
    value = raw.strip()
    if not value:
        return "palkkakausi puuttuu"
    if match := _PERIOD_ISO.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := _PERIOD_SLASH.fullmatch(value):
        month, year = int(match.group(1)), int(match.group(2))
    else:
        return f'palkkakausi "{value}" ei kelpaa; käytä muotoa 2026-11 tai 11/2026'
    if not 1 <= month <= 12:
        return f'palkkakaudessa "{value}" ei ole kuukautta {month}'
    if year not in YEARS:
        return f'palkkakauden "{value}" vuosi ei ole uskottava'
    return date(year, month, 1)


def parse_amount(raw: str) -> int | str:
    """Euro cents from 12,50, 12.50, 1 234,50 or 1.234,50 (a trailing € is allowed)."""
    value = raw.strip()
    if not value:
        return "summa puuttuu"
    cleaned = _CURRENCY.sub("", value.replace("\u2212", "-"))
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        return f'ei ole summa: "{value}" (muoto 12,50)'
    fraction = match.group("fraction") or ""
    if len(fraction) > 2:
        return f'summassa saa olla enintään 2 desimaalia, nyt "{value}"'
    fraction = fraction.ljust(2, "0")
    euros = payload_int(re.sub(r"[^0-9]", "", match.group("whole")), smallest=0)
    cents = None if euros is None else euros * 100 + int(fraction[:2])
    if match.group("sign") == "-" and cents != 0:
        return f'summa ei voi olla negatiivinen, nyt "{value}"'
    if cents is None or cents > MAX_AMOUNT_CENTS:
        return f'summa "{value}" on epäuskottavan suuri (enintään {MAX_AMOUNT_CENTS // 100} €)'
    return cents


def _month(period: date) -> str:
    return f"{period.year}-{period.month:02d}"


# --- importing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    aad_object_id: str
    number: str | None
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    id: int
    choice_id: int | None
    model_name: str
    terms: ledger.PlanTerms
    person: _Person


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
    people = await _people(session, {row.employee_number for row in references})
    plans = await _plans_of(session, people)

    resolved: list[tuple[PayrollRow, _Plan]] = []
    for row in references:
        person = people.get(row.employee_number)
        if person is None:
            message = f"tuntematon henkilönumero {row.employee_number}"
            problems.append(Problem(row.line, columns.employee_number, message))
            continue
        own = plans.get(person.aad_object_id)
        if not own:
            message = f"henkilönumerolla {row.employee_number} ei ole vähennyssuunnitelmaa"
            problems.append(Problem(row.line, columns.employee_number, message))
            continue
        if row.period is None:
            continue
        plan = (
            own[0]  # the usual case: one plan, or the newest has begun
            if own[0].terms.first_month <= row.period
            else next((plan for plan in own if plan.terms.first_month <= row.period), None)
        )
        if plan is None:
            first = _month(min(plan.terms.first_month for plan in own))
            message = (
                f"henkilönumerolla {row.employee_number} ei ole vähennyssuunnitelmaa "
                f"tälle kaudelle (ensimmäinen alkaa {first})"
            )
            problems.append(Problem(row.line, columns.period, message))
        elif isinstance(row, PayrollRow):
            resolved.append((row, plan))
    if problems:
        raise PayrollFileError(problems)

    touched = {plan.id: plan for _, plan in resolved}
    stored = await _postings(session, touched)
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
    before = {plan_id: _amounts(postings) for plan_id, postings in stored.items()}
    del stored
    changes = [*added, *((plan_id, row) for plan_id, row, _, _ in corrected)]
    changed = {plan_id for plan_id, _ in changes}
    after = before | {plan_id: dict(before[plan_id]) for plan_id in changed}  # copies if changed
    for plan_id, changed_row in changes:
        after[plan_id][changed_row.period] = changed_row.amount_cents

    import_id: int | None = None
    paid_off: list[_Plan] = []
    reopened: list[_Plan] = []
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
    due_postings = {plan_id: _amounts(p) for plan_id, p in (await _postings(session, due)).items()}
    lines = _reconciliation(
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


def _chunks(items: Iterable[_KEY], size: int = CHUNK) -> Iterator[list[_KEY]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def _people(session: AsyncSession, numbers: Collection[str]) -> dict[str, _Person]:
    found: dict[str, _Person] = {}
    for chunk in _chunks(sorted(numbers)):
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
                found[number] = _Person(aad_object_id, number, name, enabled)
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


async def _select_plans(
    session: AsyncSession,
    *where: ColumnElement[bool],
    keys: tuple[QueryableAttribute[Any], Collection[Any]] | None = None,
) -> list[_Plan]:
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
        statements = [statement.where(column.in_(chunk)) for chunk in _chunks(sorted(values))]
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
            person = _Person(
                row.aad_object_id, row.employee_number, row.display_name, row.account_enabled
            )
            plans.append(_Plan(row.id, row.choice_id, row.model_name, terms, person))
    return plans


async def _plans_of(session: AsyncSession, people: Mapping[str, _Person]) -> dict[str, list[_Plan]]:
    """Each person's plans, newest schedule first."""
    aad_ids = {person.aad_object_id for person in people.values()}
    plans: dict[str, list[_Plan]] = defaultdict(list)
    for plan in await _select_plans(session, keys=(DeductionPlan.aad_object_id, aad_ids)):
        plans[plan.person.aad_object_id].append(plan)
    for own in plans.values():
        own.sort(key=lambda plan: (plan.terms.first_month, plan.id), reverse=True)
    return plans


async def _postings(
    session: AsyncSession, plan_ids: Collection[int] | None
) -> dict[int, dict[date, tuple[int, int]]]:
    """Every posting of the plans (all plans if None): period -> (posting id, amount)."""
    found: dict[int, dict[date, tuple[int, int]]] = {plan_id: {} for plan_id in plan_ids or ()}
    table = _table(PayrollPosting)
    statement = select(table.c.id, table.c.plan_id, table.c.period, table.c.amount_cents)
    statements = (
        [statement]
        if plan_ids is None
        else [statement.where(table.c.plan_id.in_(chunk)) for chunk in _chunks(sorted(plan_ids))]
    )
    for current in statements:
        for posting_id, plan_id, period, amount in (await session.execute(current)).all():
            found.setdefault(plan_id, {})[period] = (posting_id, amount)
    return found


def _table(model: type[Base]) -> Table:
    """The Core table of a model: bulk statements without ORM bookkeeping per row."""
    return Base.metadata.tables[model.__tablename__]


def _amounts(postings: Mapping[date, tuple[int, int]]) -> dict[date, int]:
    return {period: amount for period, (_, amount) in postings.items()}


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
    table = _table(PayrollPosting)
    for chunk in _chunks(records):
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
    for changes in _chunks(corrected):
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
            insert(_table(PayrollCorrection)),
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


async def _mark_paid_off(session: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    """The phone is now the employee's: close the choice, and keep one notice per plan."""
    for choice_ids in _chunks([plan.choice_id for plan in plans if plan.choice_id is not None]):
        await lifecycle.pay_off(session=session, choice_ids=choice_ids, now=now)
    noticed: set[int] = set()
    for chunk in _chunks(sorted({plan.person.aad_object_id for plan in plans})):
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
    for batch in _chunks(notices):
        await session.execute(insert(_table(PendingNotice)), batch)


async def _reopen(session: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    """A correction left money owing: the phone is not the employee's yet after all."""
    for choice_ids in _chunks([plan.choice_id for plan in plans if plan.choice_id is not None]):
        await lifecycle.reopen_paid_off(session=session, choice_ids=choice_ids, now=now)


async def _due_plans(
    session: AsyncSession, through: date, *, exclude: Collection[int]
) -> dict[int, _Plan]:
    """Plans of active employees whose schedule has begun by `through`, not in `exclude`."""
    plans = await _select_plans(
        session, DeductionPlan.first_month <= through, Employee.account_enabled.is_(True)
    )
    return {plan.id: plan for plan in plans if plan.id not in exclude}


# --- reports ---------------------------------------------------------------------------------


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
    postings = await _postings(session, None if plan_ids is None else list(plans))
    amounts = {plan_id: _amounts(postings.get(plan_id, {})) for plan_id in plans}
    return _reconciliation(plans.values(), amounts, through=through)


async def leavers_report(*, session: AsyncSession) -> list[LeaverLine]:
    """Plans with a balance whose employee's account is disabled: what the final pay must cover."""
    plans = await _all_plans(session, None, leavers_only=True)
    postings = await _postings(session, list(plans))
    lines = []
    for plan in plans.values():
        amounts = _amounts(postings[plan.id])
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
) -> dict[int, _Plan]:
    """Plans with their employees: the given ones, or all (only leavers' if asked)."""
    where = [Employee.account_enabled.is_(False)] if leavers_only else []
    keys = None if plan_ids is None else (DeductionPlan.id, plan_ids)
    return {plan.id: plan for plan in await _select_plans(session, *where, keys=keys)}


def _reconciliation(
    plans: Iterable[_Plan], postings: Mapping[int, Mapping[date, int]], *, through: date | None
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
