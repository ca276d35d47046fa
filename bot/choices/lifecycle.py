"""Every change of a phone choice's status, and only here: the choice's life in one place.

chosen ──▶ ordered ──▶ delivered ──▶ paid_off
  │                        ▲            │
  ├──▶ changed             └────────────┘ (a payroll correction leaves money owing)
  └──▶ cancelled
chosen ──▶ delivered (ICT may deliver before the web-shop export)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices.models import OPEN_STATUSES, ChoiceStatus, PhoneChoice
from bot.refusal import Refused

DELIVERABLE = frozenset({ChoiceStatus.CHOSEN.value, ChoiceStatus.ORDERED.value})


class NotAllowed(Refused):
    """A choice cannot go from its status to the one asked."""

    catalog = "choice_problem"


async def replace_open(*, session: AsyncSession, aad_object_id: str, now: datetime) -> None:
    """A newer choice replaces the employee's unordered one."""
    await session.execute(
        update(PhoneChoice)
        .where(
            PhoneChoice.aad_object_id == aad_object_id,
            PhoneChoice.status == ChoiceStatus.CHOSEN.value,
        )
        .values(status=ChoiceStatus.CHANGED.value, closed_at=now)
    )


async def cancel_open(*, session: AsyncSession, aad_object_id: str, now: datetime) -> bool:
    """Withdraw the employee's unordered choice; False if there is none."""
    result = await session.execute(
        update(PhoneChoice)
        .where(
            PhoneChoice.aad_object_id == aad_object_id,
            PhoneChoice.status == ChoiceStatus.CHOSEN.value,
        )
        .values(status=ChoiceStatus.CANCELLED.value, closed_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def order_all_open(*, session: AsyncSession, now: datetime) -> list[int]:
    """Lock every unordered choice for the web shop in one statement; returns their ids."""
    result = await session.execute(
        update(PhoneChoice)
        .where(PhoneChoice.status == ChoiceStatus.CHOSEN.value)
        .values(status=ChoiceStatus.ORDERED.value, updated_at=now)
        .returning(PhoneChoice.id)
    )
    return [row[0] for row in result]


def deliver(choice: PhoneChoice, now: datetime) -> None:
    """The phone is in the employee's hands (the caller holds the row locked)."""
    if choice.status not in DELIVERABLE:
        raise NotAllowed("not_allowed", status=choice.status, to=ChoiceStatus.DELIVERED.value)
    choice.status = ChoiceStatus.DELIVERED.value
    choice.updated_at = now


async def pay_off(*, session: AsyncSession, choice_ids: Sequence[int], now: datetime) -> None:
    """The last instalment is in: the phone is the employee's, and they may choose again."""
    await session.execute(
        update(PhoneChoice)
        .where(
            PhoneChoice.id.in_(choice_ids),
            PhoneChoice.status.in_([status.value for status in OPEN_STATUSES]),
        )
        .values(status=ChoiceStatus.PAID_OFF.value, closed_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def reopen_paid_off(
    *, session: AsyncSession, choice_ids: Sequence[int], now: datetime
) -> None:
    """A payroll correction left money owing: the phone is not the employee's yet after all."""
    await session.execute(
        update(PhoneChoice)
        .where(PhoneChoice.id.in_(choice_ids), PhoneChoice.status == ChoiceStatus.PAID_OFF.value)
        .values(status=ChoiceStatus.DELIVERED.value, closed_at=None, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
