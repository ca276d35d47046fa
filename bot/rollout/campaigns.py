"""Turn rollout dates into outbox campaigns: the window opening, and the reminder before it closes.

Planning runs again and again (every few minutes): campaigns are keyed by wave, and recipients are
added only once, so a re-run only picks up people who joined a unit since the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import Exists

from bot.choices.models import OPEN_STATUSES, PhoneChoice
from bot.clock import Clock, helsinki_today
from bot.directory.models import Employee, Unit
from bot.notifications import outbox
from bot.notifications.delivery import Outgoing
from bot.notifications.models import Campaign, CampaignState, Notification
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
    *, session: AsyncSession, now: datetime, reminder_days: int
) -> list[PlannedCampaign]:
    """Create (or top up) the campaigns every wave needs today (in Pori)."""
    today = helsinki_today(now)
    planned = []
    open_waves = await session.scalars(
        select(RolloutWave)
        .where(RolloutWave.opens_on <= today, RolloutWave.closes_on >= today)
        .order_by(RolloutWave.id)
    )
    for wave in list(open_waves):
        members = await _members_to_tell(session, wave.id, only_without_choice=False)
        planned.append(await _campaign(session, wave, WINDOW_OPEN, "avautui", members, now))
        if today >= wave.closes_on - timedelta(days=reminder_days):
            undecided = await _members_to_tell(session, wave.id, only_without_choice=True)
            # Someone who joined the unit late is told it opened; a reminder the same day is noise.
            just_told = await _told_since(session, wave.id, now - timedelta(hours=20))
            undecided = [person for person in undecided if person not in just_told]
            planned.append(
                await _campaign(session, wave, WINDOW_REMINDER, "muistutus", undecided, now)
            )
    return planned


async def _told_since(session: AsyncSession, wave_id: int, since: datetime) -> set[str]:
    rows = await session.scalars(
        select(Notification.recipient)
        .join(Campaign, Campaign.id == Notification.campaign_id)
        .where(Campaign.key == f"wave-{wave_id}-{WINDOW_OPEN}", Notification.created_at >= since)
    )
    return set(rows)


async def _campaign(
    session: AsyncSession,
    wave: RolloutWave,
    kind: str,
    label: str,
    recipients: list[str],
    now: datetime,
) -> PlannedCampaign:
    campaign = await outbox.create_campaign(
        session=session,
        key=f"wave-{wave.id}-{kind}",
        kind=kind,
        payload={"wave_id": wave.id},
        title=f"{wave.name}: {label}",
        now=now,
    )
    added = await outbox.top_up(session=session, campaign=campaign, recipients=recipients, now=now)
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


class Later(StrEnum):
    SCHEDULED = "scheduled"
    TOO_LATE = "too_late"  # the next working morning is after the window closes
    NOT_POSSIBLE = "not_possible"  # not the employee's wave, over, or ICT stopped reminders


async def remind_later(
    *, session: AsyncSession, wave_id: int, aad_object_id: str, at: datetime, now: datetime
) -> Later:
    """One personal reminder per wave at `at`; asking again moves it.

    The wave id comes back from a card, so it is checked, not trusted: it must be the wave of the
    employee's own unit, and its window must still be open when the reminder comes.
    """
    wave = await session.get(RolloutWave, wave_id)
    employee = await session.get(Employee, aad_object_id)
    if wave is None or employee is None or helsinki_today(now) > wave.closes_on:
        return Later.NOT_POSSIBLE
    if await session.get(RolloutWaveUnit, (wave.id, employee.unit_code or "")) is None:
        return Later.NOT_POSSIBLE
    if helsinki_today(at) > wave.closes_on:
        return Later.TOO_LATE
    campaign = await outbox.create_campaign(
        session=session,
        key=f"wave-{wave.id}-{REMIND_LATER}",
        kind=WINDOW_REMINDER,
        payload={"wave_id": wave.id},
        title=f"{wave.name}: muistuta myöhemmin",
        now=now,
    )
    if campaign.state != CampaignState.ACTIVE:
        return Later.NOT_POSSIBLE
    await outbox.schedule_personal(
        session=session, campaign_id=campaign.id, recipient=aad_object_id, at=at, now=now
    )
    return Later.SCHEDULED


@dataclass(frozen=True)
class WaveNotice:
    """What a window card says to one employee."""

    wave_id: int
    opens_on: date
    closes_on: date
    unit_name_fi: str | None
    unit_name_en: str | None
    has_open_choice: bool
    in_wave: bool  # the employee's unit now is one of the wave's (people change units)


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
    membership = await session.get(RolloutWaveUnit, (wave.id, unit.code)) if unit else None
    return WaveNotice(
        wave_id=wave.id,
        opens_on=wave.opens_on,
        closes_on=wave.closes_on,
        unit_name_fi=unit.name_fi if unit else None,
        unit_name_en=unit.name_en if unit else None,
        has_open_choice=bool(chosen),
        in_wave=membership is not None,
    )


async def window_to_tell(
    session: AsyncSession, outgoing: Outgoing, now: datetime
) -> WaveNotice | None:
    """The wave as a window card tells it now: None once the window has closed or the employee
    has moved to a unit outside the wave."""
    notice = await wave_notice(
        session=session, wave_id=int(outgoing.payload["wave_id"]), aad_object_id=outgoing.recipient
    )
    if notice is None or not notice.in_wave or helsinki_today(now) > notice.closes_on:
        return None
    return notice


async def reminder_to_tell(
    session: AsyncSession, outgoing: Outgoing, now: datetime
) -> WaveNotice | None:
    """As window_to_tell, and None as well for someone who has chosen in the meantime."""
    notice = await window_to_tell(session, outgoing, now)
    return None if notice is None or notice.has_open_choice else notice


class LaterReminders:
    """The 'remind me later' button: the next working morning, one transaction per press."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, hours: WorkingHours
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hours = hours

    async def schedule(self, *, aad_object_id: str, wave_id: int) -> tuple[Later, datetime]:
        """What came of it, and when the reminder will come if it was scheduled."""
        now = self._clock()
        local_now = now.astimezone(self._hours.tz)
        tomorrow = datetime.combine(local_now.date() + timedelta(days=1), time(0), self._hours.tz)
        at = self._hours.next_allowed(tomorrow)
        async with self._sessions() as session, session.begin():
            answer = await remind_later(
                session=session,
                wave_id=wave_id,
                aad_object_id=aad_object_id,
                at=at,
                now=now,
            )
        return answer, at
