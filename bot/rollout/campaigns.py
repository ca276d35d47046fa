"""Turn rollout dates into outbox campaigns: the window opening, and the reminder before it closes.

Planning runs again and again (every few minutes): campaigns are keyed by wave, and recipients are
added only once, so a re-run only picks up people who joined a unit since the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import Exists

from bot.choices.models import OPEN_STATUSES, PhoneChoice
from bot.clock import Clock, helsinki_today
from bot.directory.models import Employee, Unit
from bot.notifications import outbox
from bot.notifications.quiet_hours import WorkingHours
from bot.rollout.models import RolloutWave, RolloutWaveUnit

WINDOW_OPEN = "window_open"
WINDOW_REMINDER = "window_reminder"
REMIND_LATER = "window_later"


@dataclass(frozen=True)
class PlannedCampaign:
    campaign_id: int
    kind: str
    wave_id: int
    added: int


async def plan_rollout_campaigns(
    *, session: AsyncSession, today: date, reminder_days: int
) -> list[PlannedCampaign]:
    """Create (or top up) the campaigns every wave needs today."""
    planned = []
    open_waves = await session.scalars(
        select(RolloutWave)
        .where(RolloutWave.opens_on <= today, RolloutWave.closes_on >= today)
        .order_by(RolloutWave.id)
    )
    for wave in list(open_waves):
        members = await _members_to_tell(session, wave.id, only_without_choice=False)
        planned.append(await _campaign(session, wave, WINDOW_OPEN, "avautui", members))
        if today >= wave.closes_on - timedelta(days=reminder_days):
            undecided = await _members_to_tell(session, wave.id, only_without_choice=True)
            planned.append(await _campaign(session, wave, WINDOW_REMINDER, "muistutus", undecided))
    return planned


async def _campaign(
    session: AsyncSession, wave: RolloutWave, kind: str, label: str, recipients: list[str]
) -> PlannedCampaign:
    campaign = await outbox.create_campaign(
        session=session,
        key=f"wave-{wave.id}-{kind}",
        kind=kind,
        payload={"wave_id": wave.id},
        title=f"{wave.name}: {label}",
    )
    added = await outbox.enqueue(session=session, campaign_id=campaign.id, recipients=recipients)
    return PlannedCampaign(campaign.id, kind, wave.id, added)


async def _members_to_tell(
    session: AsyncSession, wave_id: int, *, only_without_choice: bool
) -> list[str]:
    """Active employees of the wave's units (left or disabled accounts are not told)."""
    query = (
        select(Employee.aad_object_id)
        .join(RolloutWaveUnit, RolloutWaveUnit.unit_code == Employee.unit_code)
        .where(
            RolloutWaveUnit.wave_id == wave_id,
            Employee.account_enabled.is_(True),
            Employee.left_at.is_(None),
        )
        .order_by(Employee.aad_object_id)
    )
    if only_without_choice:
        query = query.where(~_has_open_choice())
    return list(await session.scalars(query))


def _has_open_choice(person: InstrumentedAttribute[str] | str = Employee.aad_object_id) -> Exists:
    return exists().where(
        PhoneChoice.aad_object_id == person,
        PhoneChoice.status.in_([status.value for status in OPEN_STATUSES]),
    )


async def remind_later(
    *, session: AsyncSession, wave_id: int, aad_object_id: str, at: datetime
) -> bool:
    """One personal reminder per wave at `at`; asking again moves it.

    False when the wave is not the employee's own or its window will have closed by then: the
    wave id comes back from a card, so it is checked, not trusted.
    """
    wave = await session.get(RolloutWave, wave_id)
    employee = await session.get(Employee, aad_object_id)
    if wave is None or employee is None or helsinki_today(at) > wave.closes_on:
        return False
    own = await session.get(RolloutWaveUnit, (wave.id, employee.unit_code or ""))
    if own is None:
        return False
    campaign = await outbox.create_campaign(
        session=session,
        key=f"wave-{wave.id}-{REMIND_LATER}",
        kind=WINDOW_REMINDER,
        payload={"wave_id": wave.id},
        title=f"{wave.name}: muistuta myöhemmin",
    )
    await outbox.schedule_personal(
        session=session, campaign_id=campaign.id, recipient=aad_object_id, at=at
    )
    return True


@dataclass(frozen=True)
class WaveNotice:
    """What a window card says to one employee."""

    wave_id: int
    opens_on: date
    closes_on: date
    unit_name_fi: str | None
    unit_name_en: str | None
    has_open_choice: bool


async def wave_notice(
    *, session: AsyncSession, wave_id: int, aad_object_id: str
) -> WaveNotice | None:
    """None when the wave no longer exists."""
    wave = await session.get(RolloutWave, wave_id)
    if wave is None:
        return None
    employee = await session.get(Employee, aad_object_id)
    unit = await session.get(Unit, employee.unit_code) if employee and employee.unit_code else None
    chosen = await session.scalar(select(_has_open_choice(aad_object_id)))
    return WaveNotice(
        wave_id=wave.id,
        opens_on=wave.opens_on,
        closes_on=wave.closes_on,
        unit_name_fi=unit.name_fi if unit else None,
        unit_name_en=unit.name_en if unit else None,
        has_open_choice=bool(chosen),
    )


class LaterReminders:
    """The 'remind me later' button: the next working morning, one transaction per press."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, hours: WorkingHours
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hours = hours

    async def schedule(self, *, aad_object_id: str, wave_id: int) -> datetime | None:
        """When the reminder will come, or None when there is no window left to remind of."""
        local_now = self._clock().astimezone(self._hours.tz)
        tomorrow = datetime.combine(local_now.date() + timedelta(days=1), time(0), self._hours.tz)
        at = self._hours.next_allowed(tomorrow)
        async with self._sessions() as session, session.begin():
            scheduled = await remind_later(
                session=session, wave_id=wave_id, aad_object_id=aad_object_id, at=at
            )
        return at if scheduled else None
