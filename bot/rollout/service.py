"""Is an employee's unit allowed to choose today?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, helsinki_today
from bot.db.sessions import SessionFactory
from bot.directory.models import Employee, Unit
from bot.refusal import Reason, Refused
from bot.rollout.models import RolloutWave, RolloutWaveUnit

ROLLOUT_WAVES_LOCK = 0x726F6C6C6F7574  # "rollout" in ASCII: PostgreSQL advisory lock key


class WindowState(StrEnum):
    NO_WAVES = "no_waves"  # nothing scheduled at all: anyone may choose
    OPEN = "open"
    NOT_YET = "not_yet"
    CLOSED = "closed"
    UNSCHEDULED = "unscheduled"  # waves exist, but none for this unit yet


@dataclass(frozen=True)
class ChoiceWindow:
    state: WindowState
    opens_on: date | None = None
    closes_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.state in (WindowState.OPEN, WindowState.NO_WAVES)


async def window_for_unit(
    *, session: AsyncSession, unit_code: str | None, today: date, waves_exist: bool | None = None
) -> ChoiceWindow:
    """The unit's open window if one is open today, else the next one, else the last one.

    `waves_exist` is for a caller that has already asked whether any wave is scheduled."""
    if waves_exist is None:
        waves_exist = bool(await session.scalar(select(func.count()).select_from(RolloutWave)))
    if not waves_exist:
        return ChoiceWindow(WindowState.NO_WAVES)
    if unit_code is None:
        return ChoiceWindow(WindowState.UNSCHEDULED)
    waves = list(
        await session.scalars(
            select(RolloutWave)
            .join(RolloutWaveUnit)
            .where(RolloutWaveUnit.unit_code == unit_code)
            .order_by(RolloutWave.opens_on)
        )
    )
    if not waves:
        return ChoiceWindow(WindowState.UNSCHEDULED)
    for wave in waves:
        if wave.opens_on <= today <= wave.closes_on:
            return ChoiceWindow(WindowState.OPEN, wave.opens_on, wave.closes_on)
    upcoming = [wave for wave in waves if wave.opens_on > today]
    if upcoming:
        return ChoiceWindow(WindowState.NOT_YET, upcoming[0].opens_on, upcoming[0].closes_on)
    return ChoiceWindow(WindowState.CLOSED, waves[-1].opens_on, waves[-1].closes_on)


class WaveError(Refused):
    """A wave that cannot be scheduled as asked, with every problem found; nothing was saved."""

    catalog = "wave_problem"


@dataclass(frozen=True)
class UnitTurn:
    """An employee's unit and its choice window, for 'when is our turn?'."""

    unit_code: str | None
    unit_name_fi: str | None
    unit_name_en: str | None
    window: ChoiceWindow


async def turn_of(*, session: AsyncSession, aad_object_id: str, today: date) -> UnitTurn:
    employee = await session.get(Employee, aad_object_id)
    unit = await session.get(Unit, employee.unit_code) if employee and employee.unit_code else None
    window = await window_for_unit(
        session=session, unit_code=unit.code if unit else None, today=today
    )
    return UnitTurn(
        unit_code=unit.code if unit else None,
        unit_name_fi=unit.name_fi if unit else None,
        unit_name_en=unit.name_en if unit else None,
        window=window,
    )


async def schedule_wave(
    *, session: AsyncSession, name: str, opens_on: date, closes_on: date, unit_codes: list[str]
) -> RolloutWave:
    """Add a wave; refused whole if a unit is unknown or already has an overlapping window.

    On PostgreSQL a lock held until commit makes concurrent calls (a double click) take turns,
    so the second sees the first's wave as an overlap; SQLite has one writer anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(ROLLOUT_WAVES_LOCK)))
    problems: list[Reason] = []
    if not name.strip():
        problems.append(Reason("no_name"))
    if closes_on < opens_on:
        problems.append(
            Reason("closes_before_opens", {"opens": str(opens_on), "closes": str(closes_on)})
        )
    if not unit_codes:
        problems.append(Reason("no_units"))
    known = set(await session.scalars(select(Unit.code).where(Unit.code.in_(unit_codes))))
    problems += [Reason("unknown_unit", {"unit": code}) for code in unit_codes if code not in known]
    overlapping = await session.execute(
        select(RolloutWaveUnit.unit_code, RolloutWave.name)
        .join(RolloutWave)
        .where(
            RolloutWaveUnit.unit_code.in_(unit_codes),
            RolloutWave.opens_on <= closes_on,
            RolloutWave.closes_on >= opens_on,
        )
    )
    problems += [Reason("overlaps", {"unit": code, "wave": wave}) for code, wave in overlapping]
    if problems:
        raise WaveError.for_all(problems)
    wave = RolloutWave(name=name.strip(), opens_on=opens_on, closes_on=closes_on)
    wave.units = [RolloutWaveUnit(unit_code=code) for code in dict.fromkeys(unit_codes)]
    session.add(wave)
    await session.flush()
    return wave


async def all_waves(*, session: AsyncSession) -> list[tuple[RolloutWave, list[str]]]:
    waves = list(await session.scalars(select(RolloutWave).order_by(RolloutWave.opens_on)))
    units = await session.execute(select(RolloutWaveUnit.wave_id, RolloutWaveUnit.unit_code))
    by_wave: dict[int, list[str]] = {}
    for wave_id, code in units:
        by_wave.setdefault(wave_id, []).append(code)
    return [(wave, sorted(by_wave.get(wave.id, []))) for wave in waves]


class TurnReader:
    """What the 'my unit's turn' conversation reads, one short transaction per call."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def for_employee(self, aad_object_id: str) -> UnitTurn:
        async with self._sessions() as session:
            return await turn_of(
                session=session, aad_object_id=aad_object_id, today=helsinki_today(self._clock())
            )
