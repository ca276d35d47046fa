"""The gauges only the database knows (outbox depth, relay backlog, sync age), sampled on a
timer: reading the metrics never waits for a query, and a scrape costs the database nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.base import as_utc
from bot.db.sessions import SessionFactory
from bot.directory.models import DirectorySyncState
from bot.notifications.models import Notification, NotificationState
from bot.telemetry.instruments import Readings
from bot.tickets.models import Ticket


async def read_gauges(session: AsyncSession, clock: Clock) -> Readings:
    """Counts by state (the index on state answers it), tickets owed news, age of each sync."""
    by_state = await session.execute(
        select(Notification.state, func.count()).group_by(Notification.state)
    )
    backlog = await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.relay_pending.is_(True))
    )
    syncs = await session.execute(
        select(
            DirectorySyncState.source,
            DirectorySyncState.last_full_sync_at,
            DirectorySyncState.last_delta_sync_at,
        )
    )
    now = clock()
    ages: dict[str, float] = {}
    for source, full, delta in syncs:
        moments = [as_utc(moment) for moment in (full, delta) if moment is not None]
        if moments:
            ages[source] = max((now - max(moments)).total_seconds(), 0.0)
    counts = {state.value: 0 for state in NotificationState}
    counts.update({str(state): count for state, count in by_state})
    return Readings(
        outbox_by_state=counts,
        relay_backlog=backlog or 0,
        directory_sync_age_seconds=ages,
    )


class GaugeSampler:
    """Refreshes the instruments' readings; run by the background jobs' timer."""

    def __init__(self, sessions: SessionFactory, clock: Clock, readings: Readings) -> None:
        self._sessions = sessions
        self._clock = clock
        self._readings = readings

    async def sample(self) -> None:
        async with self._sessions() as session:
            fresh = await read_gauges(session, self._clock)
        self._readings.outbox_by_state = fresh.outbox_by_state
        self._readings.relay_backlog = fresh.relay_backlog
        self._readings.directory_sync_age_seconds = fresh.directory_sync_age_seconds
