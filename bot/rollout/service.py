"""Is an employee's unit allowed to choose today?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rollout.models import RolloutWave, RolloutWaveUnit


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
    *, session: AsyncSession, unit_code: str | None, today: date
) -> ChoiceWindow:
    """The unit's open window if one is open today, else the next one, else the last one."""
    if not await session.scalar(select(func.count()).select_from(RolloutWave)):
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
