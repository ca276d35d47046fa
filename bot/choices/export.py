"""Recorded choices as a CSV file for ICT's Excel and for payroll.

The file follows Finnish conventions so that Excel opens it by double-click with the right
columns and numbers:

- UTF-8 with a byte order mark (Excel otherwise guesses a legacy code page and breaks ä and ö);
  open the stream with ``encoding="utf-8"`` (not ``utf-8-sig``: the BOM is written here) and
  ``newline=""`` (rows end in CRLF, the csv module's default; text-mode translation would double
  the CR on Windows);
- ``;`` between fields (the comma is the decimal separator);
- amounts in euros with a decimal comma, no currency sign and no thousands separator
  (``1299,00``), so Excel reads them as numbers that can be summed;
- dates as ``d.m.yyyy``; ``ensimmainen_vahennyskuukausi`` (the month of the first salary
  deduction) is the first day of that month, e.g. ``1.1.2027`` for January 2027;
- ``suostumus_annettu`` (when the employee accepted the figures) as ``d.m.yyyy HH.MM`` in
  Europe/Helsinki time;
- ``ensimmainen_era`` is the first instalment, which carries the remainder of an uneven division;
  ``muut_erat`` is each of the other ``eria - 1`` instalments. Both are empty when there is no
  such instalment (nothing to pay, or a single instalment), so that
  ``tyontekijan_osuus = ensimmainen_era + (eria - 1) * muut_erat``.

Every figure is the one recorded with the choice, i.e. the one the employee saw and accepted;
nothing is recomputed from today's catalog.

Names, unit names and model names come from the directory and the catalog, so a text cell that
begins with ``= + - @``, a tab or a carriage return gets a leading apostrophe: Excel would
otherwise run it as a formula (CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.directory.models import Employee, Unit
from bot.i18n import texts
from bot.spreadsheet import excel_text, finnish_order

HEADERS = (
    "henkilonumero",
    "nimi",
    "upn",
    "yksikko",
    "valinta",
    "tila",
    "tuotekoodi",
    "malli",
    "hinta",
    "kaupungin_osuus",
    "tyontekijan_osuus",
    "eria",
    "ensimmainen_era",
    "muut_erat",
    "ensimmainen_vahennyskuukausi",
    "suostumus_annettu",
    "valinta_id",
)

OPTION_LABELS = {
    ChoiceOption.FREE_CHOICE.value: "Free Choice",
    ChoiceOption.PORI_PHONE.value: "Pori-puhelin",
}

STATUS_LABELS = {
    ChoiceStatus.CHOSEN.value: "valittu",
    ChoiceStatus.ORDERED.value: "tilattu",
    ChoiceStatus.DELIVERED.value: "toimitettu",
    ChoiceStatus.PAID_OFF.value: "maksettu",
    ChoiceStatus.CHANGED.value: "vaihdettu",
    ChoiceStatus.CANCELLED.value: "peruttu",
}


@dataclass(frozen=True)
class ExportRow:
    """One recorded choice with the employee and unit it belongs to; money in euro cents."""

    choice_id: int
    option: str
    status: str
    employee_number: str | None
    display_name: str
    user_principal_name: str | None
    unit_code: str | None
    unit_name: str | None
    sku: str | None
    model_name: str | None
    price_cents: int
    city_share_cents: int
    employee_share_cents: int
    instalment_count: int
    instalment_cents: int
    first_instalment_cents: int
    first_deduction_month: date | None
    consented_at: datetime | None


async def export_rows(
    *, session: AsyncSession, statuses: Collection[str], choice_ids: Collection[int] | None = None
) -> list[ExportRow]:
    """The choices in the given statuses, ordered by unit, then employee name (Finnish order).

    Rows are sorted here rather than in SQL: database collations differ (SQLite compares bytes,
    PostgreSQL follows the server's locale), and the file should not depend on the backend.
    Employees without a unit come last.
    """
    unknown = set(statuses) - set(STATUS_LABELS)
    if unknown:
        raise ValueError(
            f"unknown choice status: {', '.join(sorted(unknown))}; "
            f"known: {', '.join(STATUS_LABELS)}"
        )
    query = (
        select(PhoneChoice, Employee, Unit)
        .join(Employee, PhoneChoice.aad_object_id == Employee.aad_object_id)
        .outerjoin(Unit, Employee.unit_code == Unit.code)
        .where(PhoneChoice.status.in_(list(statuses)))
    )
    if choice_ids is not None:
        query = query.where(PhoneChoice.id.in_(list(choice_ids)))
    result = await session.execute(query)
    rows = [_row(choice, employee, unit) for choice, employee, unit in result]
    rows.sort(key=_order)
    return rows


def write_csv(rows: Iterable[ExportRow], stream: TextIO) -> None:
    """Write the header and one line per row (see the module docstring for the format)."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(_cells(row))


def _row(choice: PhoneChoice, employee: Employee, unit: Unit | None) -> ExportRow:
    return ExportRow(
        choice_id=choice.id,
        option=choice.option,
        status=choice.status,
        employee_number=employee.employee_number,
        display_name=employee.display_name,
        user_principal_name=employee.user_principal_name,
        unit_code=employee.unit_code,
        unit_name=unit.name_fi if unit is not None else None,
        sku=choice.sku,
        model_name=choice.model_name,
        price_cents=choice.price_cents,
        city_share_cents=choice.city_share_cents,
        employee_share_cents=choice.employee_share_cents,
        instalment_count=choice.instalment_count,
        instalment_cents=choice.instalment_cents,
        first_instalment_cents=choice.first_instalment_cents,
        first_deduction_month=choice.first_deduction_month,
        consented_at=choice.consented_at,
    )


def _cells(row: ExportRow) -> list[str]:
    finnish = texts("fi")
    count = row.instalment_count
    return [
        excel_text(row.employee_number),
        excel_text(row.display_name),
        excel_text(row.user_principal_name),
        excel_text(row.unit_name or row.unit_code),
        OPTION_LABELS.get(row.option) or excel_text(row.option),
        STATUS_LABELS.get(row.status) or excel_text(row.status),
        excel_text(row.sku),
        excel_text(row.model_name),
        _amount(row.price_cents),
        _amount(row.city_share_cents),
        _amount(row.employee_share_cents),
        str(count),
        _amount(row.first_instalment_cents) if count >= 1 else "",
        _amount(row.instalment_cents) if count >= 2 else "",
        finnish.date(row.first_deduction_month) if row.first_deduction_month else "",
        finnish.datetime(row.consented_at) if row.consented_at else "",
        str(row.choice_id),
    ]


def _amount(cents: int) -> str:
    """1299,00: a number to Excel in a Finnish locale (no € sign, no thousands separator)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"


def _order(row: ExportRow) -> tuple[bool, str, str, str, str, int]:
    unit = row.unit_name or row.unit_code or ""
    return (
        not unit,
        finnish_order(unit),
        row.unit_code or "",
        finnish_order(row.display_name),
        row.display_name,
        row.choice_id,
    )
