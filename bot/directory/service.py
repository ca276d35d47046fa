"""Who the bot is talking to: first contact, welcome, and the language they chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.upsert import upsert
from bot.directory.models import Employee, Unit


@dataclass(frozen=True)
class Contact:
    """What a turn needs to know about the person writing."""

    aad_object_id: str
    display_name: str
    chosen_language: str | None
    directory_language: str | None
    needs_welcome: bool


async def register_contact(
    *,
    session: AsyncSession,
    aad_object_id: str,
    display_name: str | None,
    now: datetime,
) -> Contact:
    """Find the employee (or record a first contact) and say whether they are yet to be welcomed."""
    await upsert(
        session,
        Employee,
        {
            "aad_object_id": aad_object_id,
            "display_name": display_name or "",
            "first_seen_at": now,
            "account_enabled": True,
            "created_at": now,
            "updated_at": now,
        },
        conflict_columns=["aad_object_id"],
    )
    employee = await session.get(Employee, aad_object_id, populate_existing=True)
    assert employee is not None
    if employee.first_seen_at is None:
        employee.first_seen_at = now
    if display_name and not employee.display_name:
        employee.display_name = display_name
    return contact_of(employee)


def needs_registering(employee: Any | None, display_name: str | None) -> bool:
    """Whether `register_contact` would write: a first contact, someone the directory knew
    before they wrote, or a name learnt now. `employee` is a row or an `Employee`."""
    return (
        employee is None
        or employee.first_seen_at is None
        or (bool(display_name) and not employee.display_name)
    )


def contact_of(employee: Any) -> Contact:
    """The contact an `Employee` (or a row with its columns) makes."""
    return Contact(
        aad_object_id=employee.aad_object_id,
        display_name=employee.display_name or "",
        chosen_language=employee.chosen_language,
        directory_language=employee.directory_language,
        needs_welcome=employee.welcomed_at is None,
    )


async def mark_welcomed(*, session: AsyncSession, aad_object_id: str, now: datetime) -> bool:
    """Record the welcome once; False if another turn already did."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(Employee)
        .where(Employee.aad_object_id == aad_object_id, Employee.welcomed_at.is_(None))
        .values(welcomed_at=now)
    )
    return bool(result.rowcount)


async def choose_language(
    *, session: AsyncSession, aad_object_id: str, language: str, now: datetime
) -> None:
    await upsert(
        session,
        Employee,
        {
            "aad_object_id": aad_object_id,
            "display_name": "",
            "chosen_language": language,
            "first_seen_at": now,
            "account_enabled": True,
            "created_at": now,
            "updated_at": now,
        },
        conflict_columns=["aad_object_id"],
        update_columns=["chosen_language", "updated_at"],
    )


async def all_units(*, session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(select(Unit).order_by(Unit.name_fi)))
