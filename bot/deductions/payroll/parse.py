"""Payroll's monthly deduction file as read: every row checked, nothing stored yet.

The file is CSV with `;` separators (or Excel's tab-separated "Unicode text") and decimal commas,
one row per employee number and pay period with the amount deducted. Problems in single rows are
kept for the posting step to report together with the ones that need the database.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bot.refusal import Reason
from bot.spreadsheet import (
    Problem,
    SpreadsheetError,
    decode_spreadsheet,
    fold_header,
    parse_cents,
    parse_month,
    tab_separated,
)

if TYPE_CHECKING:
    from _csv import Reader

MAX_AMOUNT_CENTS = 1_000_000  # 10 000 €: more than any phone's share; a larger one is a typo


class PayrollFileError(SpreadsheetError):
    """The file cannot be imported; every problem found is listed, sorted by line."""


@dataclass(frozen=True)
class PayrollColumns:
    """The header names of the three columns; compared without case, ä/ö/å or punctuation, and
    without what is in brackets when the whole name is not there."""

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


def parse_payroll_file(path: Path, columns: PayrollColumns = DEFAULT_COLUMNS) -> PayrollFile:
    """Read and check the file on its own; PayrollFileError if it cannot be read row by row.

    Problems in single rows do not raise here: they are kept in `problems`, so that
    import_payroll can report them together with the ones that need the database.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = str(error.strerror or error)
        raise PayrollFileError([Problem(0, "", "file.unreadable", {"reason": reason})]) from error
    return parse_payroll_bytes(data, columns)


def parse_payroll_bytes(data: bytes, columns: PayrollColumns = DEFAULT_COLUMNS) -> PayrollFile:
    """parse_payroll_file for bytes already read."""
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise PayrollFileError([Problem(0, "", "file.empty")])
    text = decode_spreadsheet(data, PayrollFileError)
    delimiter = "\t" if tab_separated(text) else ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header: list[str] | None = None
        while header is None:
            record = next(reader, None)
            if record is None:
                raise PayrollFileError([Problem(0, "", "file.empty")])
            if any(cell.strip() for cell in record):
                header = record
        header_line = reader.line_num
        indexes, shown = _header(header, header_line, columns)
        return _rows(reader, header, indexes, shown, digest)
    except csv.Error as error:
        where = {"line": str(reader.line_num), "reason": str(error)}
        raise PayrollFileError([Problem(0, "", "payroll.unreadable_csv", where)]) from error


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
    if len({fold_header(name) for name in wanted.values()}) < len(wanted):
        problems.append(Problem(line, "", "payroll.same_name_twice"))
    found: dict[str, int] = {}
    for field, name in wanted.items():
        matches = _columns_named(header, name)
        if not matches:
            written = {"header": "; ".join(cell.strip() for cell in header)}
            if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
                missing = "payroll.missing_column_separator"
            else:
                missing = "payroll.missing_column"
            problems.append(Problem(line, name, missing, written))
        elif len(matches) > 1:
            places = {"places": ", ".join(str(index + 1) for index in matches)}
            problems.append(Problem(line, name, "payroll.repeated_column", places))
        else:
            found[field] = matches[0]
    if problems:
        raise PayrollFileError(problems)
    shown = PayrollColumns(**{field: header[index].strip() for field, index in found.items()})
    return (found["employee_number"], found["period"], found["amount"]), shown


def _columns_named(header: list[str], name: str) -> list[int]:
    """Where a column is: by its whole name first ("Summa (netto)" beside "Summa (brutto)"), else
    without what is in brackets ("Summa (€)" for "summa")."""
    for brackets in (True, False):
        wanted = fold_header(name, brackets=brackets)
        found = [
            at for at, cell in enumerate(header) if fold_header(cell, brackets=brackets) == wanted
        ]
        if found:
            return found
    return []


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
    # A file has few distinct periods and amounts: each is parsed once.
    period_of = cache(parse_month)
    amount_of = cache(parse_amount)
    for record in reader:
        line = reader.line_num  # the last line of the record just read
        if not "".join(record).strip():
            continue  # a blank line, or only separators
        ok = True
        cells = record
        if len(record) > len(header) and "".join(record[len(header) :]).strip():
            counts = {"values": str(len(record)), "columns": str(len(header))}
            problems.append(Problem(line, "", "payroll.too_many_values", counts))
            ok = False
        elif len(record) < needed:
            cells = record + [""] * (needed - len(record))

        number = cells[number_at].strip()
        if not number:
            problems.append(Problem(line, shown.employee_number, "payroll.no_employee_number"))
            ok = False

        period = period_of(cells[period_at])
        if isinstance(period, Reason):
            problems.append(Problem(line, shown.period, period.key, period.values))
            ok = False

        amount = amount_of(cells[amount_at])
        if isinstance(amount, Reason):
            problems.append(Problem(line, shown.amount, amount.key, amount.values))
            ok = False

        valid_period = period if isinstance(period, date) else None
        if number and valid_period is not None:
            first = first_line.setdefault((number, valid_period), line)
            if first != line:
                period_shown = month_label(valid_period)
                named = {"employee": number, "period": period_shown, "first": str(first)}
                problems.append(Problem(line, "", "payroll.repeated_row", named))
                ok = False
        if ok and isinstance(amount, int) and valid_period is not None:
            rows.append(PayrollRow(line, number, valid_period, amount))
        elif number:
            incomplete.append(RowReference(line, number, valid_period))
    if not rows and not incomplete:
        problems.append(Problem(0, "", "payroll.only_header"))
        raise PayrollFileError(problems)
    return PayrollFile(tuple(rows), digest, shown, tuple(problems), tuple(incomplete))


def parse_amount(raw: str) -> int | Reason:
    """The amount deducted, in cents, or why it cannot be one, as payroll is told."""
    return parse_cents(raw, limit_cents=MAX_AMOUNT_CENTS)


def month_label(period: date) -> str:
    return f"{period.year}-{period.month:02d}"
