"""How far the rollout is, per wave and unit, for ICT's tab: counts from the database, no Teams.

An employee counts when their account is enabled and they have not left (the same people the
rollout's notifications reach). Their choice is their open one (chosen, ordered or delivered);
an employee without one has "not yet" chosen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.choices.models import OPEN_STATUSES, ChoiceOption, ChoiceStatus, PhoneChoice
from bot.clock import helsinki_today
from bot.db.base import as_utc
from bot.directory.models import Employee, Unit
from bot.rollout.models import RolloutWave, RolloutWaveUnit
from bot.spreadsheet import finnish_order

_OPEN = [status.value for status in OPEN_STATUSES]
# Only people the rollout reaches: an enabled account, not left.
_REACHED = (Employee.account_enabled.is_(True), Employee.left_at.is_(None))
_ORDERED = [ChoiceStatus.ORDERED.value, ChoiceStatus.DELIVERED.value]


@dataclass(frozen=True)
class Tally:
    """Employees and where their choices stand."""

    employees: int = 0
    free_choice: int = 0
    pori_phone: int = 0
    ordered: int = 0
    delivered: int = 0

    @property
    def chosen(self) -> int:
        return self.free_choice + self.pori_phone

    @property
    def not_yet(self) -> int:
        return self.employees - self.chosen

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.employees + other.employees,
            self.free_choice + other.free_choice,
            self.pori_phone + other.pori_phone,
            self.ordered + other.ordered,
            self.delivered + other.delivered,
        )


@dataclass(frozen=True)
class UnitProgress:
    code: str
    name_fi: str
    name_en: str
    tally: Tally


@dataclass(frozen=True)
class DayCount:
    """Choices made on one day of the window, and all made by the end of it."""

    day: date
    made: int
    so_far: int


@dataclass(frozen=True)
class WaveProgress:
    id: int
    name: str
    opens_on: date
    closes_on: date
    units: tuple[UnitProgress, ...]
    days: tuple[DayCount, ...]

    @property
    def tally(self) -> Tally:
        return sum((unit.tally for unit in self.units), Tally())

    def state(self, today: date) -> str:
        """'upcoming', 'open' or 'closed' on the given day in Pori."""
        if today < self.opens_on:
            return "upcoming"
        return "open" if today <= self.closes_on else "closed"


@dataclass(frozen=True)
class Progress:
    today: date
    waves: tuple[WaveProgress, ...]


@dataclass(frozen=True)
class Waiting:
    """An employee of a unit who has not chosen yet, for a supervisor's list."""

    name: str
    email: str | None
    employee_number: str | None


async def rollout_progress(*, session: AsyncSession, now: datetime) -> Progress:
    """Every wave, oldest window first, with its units' tallies and its choices per day."""
    tallies = await _unit_tallies(session)
    units = {unit.code: unit for unit in await session.scalars(select(Unit))}
    members = await _wave_members(session)
    choice_days = await _choice_days(session)
    waves = []
    for wave in await session.scalars(
        select(RolloutWave).order_by(RolloutWave.opens_on, RolloutWave.id)
    ):
        codes = sorted(members.get(wave.id, []))
        rows = tuple(
            UnitProgress(code, units[code].name_fi, units[code].name_en, tallies.get(code, Tally()))
            for code in codes
            if code in units
        )
        waves.append(
            WaveProgress(
                wave.id,
                wave.name,
                wave.opens_on,
                wave.closes_on,
                rows,
                _days(wave, set(codes), choice_days, helsinki_today(now)),
            )
        )
    return Progress(helsinki_today(now), tuple(waves))


async def not_chosen(*, session: AsyncSession, unit_code: str) -> list[Waiting] | None:
    """The unit's employees without a choice in Finnish name order; None if there is no unit."""
    if await session.get(Unit, unit_code) is None:
        return None
    has_choice = (
        select(PhoneChoice.id)
        .where(
            PhoneChoice.aad_object_id == Employee.aad_object_id,
            PhoneChoice.status.in_(_OPEN),
        )
        .exists()
    )
    rows = await session.execute(
        select(Employee.display_name, Employee.user_principal_name, Employee.employee_number)
        .where(*_REACHED, Employee.unit_code == unit_code, ~has_choice)
        .order_by(Employee.aad_object_id)
    )
    waiting = [Waiting(name, email, number) for name, email, number in rows]
    return sorted(waiting, key=lambda person: finnish_order(person.name))


async def _unit_tallies(session: AsyncSession) -> dict[str, Tally]:
    """Per unit: employees, and their open choices by option and by status, in one query."""
    choice = and_(
        PhoneChoice.aad_object_id == Employee.aad_object_id, PhoneChoice.status.in_(_OPEN)
    )
    rows = await session.execute(
        select(
            Employee.unit_code,
            PhoneChoice.option,
            PhoneChoice.status,
            func.count(Employee.aad_object_id),
        )
        .outerjoin(PhoneChoice, choice)
        .where(*_REACHED, Employee.unit_code.is_not(None))
        .group_by(Employee.unit_code, PhoneChoice.option, PhoneChoice.status)
    )
    counts: dict[str, Counter[str]] = {}
    for unit_code, option, status, count in rows:
        tally = counts.setdefault(str(unit_code), Counter())
        tally["employees"] += count
        if option is not None:
            tally[option] += count
        if status in _ORDERED:
            tally["ordered"] += count
        if status == ChoiceStatus.DELIVERED.value:
            tally["delivered"] += count
    return {
        code: Tally(
            employees=c["employees"],
            free_choice=c[ChoiceOption.FREE_CHOICE.value],
            pori_phone=c[ChoiceOption.PORI_PHONE.value],
            ordered=c["ordered"],
            delivered=c["delivered"],
        )
        for code, c in counts.items()
    }


async def _wave_members(session: AsyncSession) -> dict[int, list[str]]:
    members: dict[int, list[str]] = {}
    for wave_id, unit_code in await session.execute(
        select(RolloutWaveUnit.wave_id, RolloutWaveUnit.unit_code)
    ):
        members.setdefault(wave_id, []).append(unit_code)
    return members


async def _choice_days(session: AsyncSession) -> list[tuple[str, date]]:
    """(unit, day in Pori) of every open choice of an employee the rollout reaches."""
    rows = await session.execute(
        select(Employee.unit_code, PhoneChoice.created_at)
        .join(PhoneChoice, PhoneChoice.aad_object_id == Employee.aad_object_id)
        .where(*_REACHED, PhoneChoice.status.in_(_OPEN), Employee.unit_code.is_not(None))
    )
    return [(str(unit_code), helsinki_today(as_utc(made_at))) for unit_code, made_at in rows]


def _days(
    wave: RolloutWave, codes: set[str], choice_days: list[tuple[str, date]], today: date
) -> tuple[DayCount, ...]:
    """Each day of the window up to today: choices that day, and all by then (earlier too)."""
    per_day = Counter(day for code, day in choice_days if code in codes)
    before = sum(count for day, count in per_day.items() if day < wave.opens_on)
    last = min(wave.closes_on, today)
    days = []
    so_far = before
    day = wave.opens_on
    while day <= last:
        so_far += per_day[day]
        days.append(DayCount(day, per_day[day], so_far))
        day += timedelta(days=1)
    return tuple(days)
