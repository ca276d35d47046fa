"""Teams' per-tenant send rate shared by every dispatcher process, through PostgreSQL.

Each send takes the next free slot from one row: `next_slot` moves on by 1/rate seconds per
send, whichever process asks, so the tenant's sends stay evenly spaced however many processes
there are, and `NOTIFY_RATE_PER_SECOND` is the tenant's rate, not one process's share. The
database's own clock decides the slots; each process maps them onto its own monotonic clock
from its quickest recent round trip (`ClockOffset`), so machines whose wall clocks differ still
keep the spacing. Throttling that holds every send (Teams' 429s in a row) is written to the
same row, so every process holds.

One short UPDATE per send (50 a second for the tenant), on its own connection outside any
transaction, right before the send's request (`bot.pacing`). SQLite has one process and keeps
the in-process RateLimiter.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.pacing import pace_this_send

TENANT_PACE = "teams-tenant"
# Room for what happens between a send's slot and its request's arrival at Teams (a send may
# start up to bot.pacing.LATE_TOLERANCE late, and networks and event loops add their own): slots
# sit this much further apart than 1/rate. Measured (benchmarks/shared_rate.py, 6,400 sends,
# three processes): 2 % left 13 requests over Teams' limit, 5 % one or none.
SPACING_MARGIN = 0.05

_TAKE_SLOT = text(
    """
    INSERT INTO send_pace AS pace (name, next_slot, paused_until)
    VALUES (:name, clock_timestamp() + make_interval(secs => :interval), NULL)
    ON CONFLICT (name) DO UPDATE SET next_slot = GREATEST(
        pace.next_slot, clock_timestamp(), COALESCE(pace.paused_until, clock_timestamp())
    ) + make_interval(secs => :interval)
    RETURNING EXTRACT(EPOCH FROM pace.next_slot) - :interval AS slot,
        EXTRACT(EPOCH FROM clock_timestamp()) AS database_now
    """
)
_PAUSE = text(
    """
    INSERT INTO send_pace AS pace (name, next_slot, paused_until)
    VALUES (:name, clock_timestamp(), clock_timestamp() + make_interval(secs => :seconds))
    ON CONFLICT (name) DO UPDATE SET paused_until = GREATEST(
        COALESCE(pace.paused_until, clock_timestamp()),
        clock_timestamp() + make_interval(secs => :seconds)
    )
    """
)


class SharedPace:
    """The dispatcher's rate limiter when several processes send for one tenant."""

    def __init__(
        self,
        engine: AsyncEngine,
        rate: float,
        *,
        pause_after: int = 5,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._engine = engine
        self._interval = (1.0 / rate) * (1.0 + SPACING_MARGIN)
        self._pauses = 0
        self._throttles: deque[float] = deque(maxlen=max(1, pause_after))
        self._holding: set[asyncio.Task[None]] = set()
        self._clocks = ClockOffset()

    @property
    def pauses(self) -> int:
        """How many times this process held every send (for benchmarks and logs)."""
        return self._pauses

    async def acquire(self) -> None:
        """Marks this send as paced: it takes its slot in the tenant's sequence right before
        its request goes out (`bot.pacing`), after its own database reads."""
        pace_this_send(self)

    async def take_slot(self) -> tuple[float, float]:
        """The next slot of the tenant's sequence: its start in the database's epoch seconds,
        and in this process's `time.monotonic()`."""
        async with self._engine.connect() as connection:
            sent = time.monotonic()
            row = (
                await connection.execute(
                    _TAKE_SLOT, {"name": TENANT_PACE, "interval": self._interval}
                )
            ).one()
            answered = time.monotonic()
            await connection.commit()
        offset = self._clocks.sample(float(row.database_now), sent, answered)
        return float(row.slot), float(row.slot) - offset

    def throttled(self, retry_after: float) -> bool:
        """A send was told to wait; True if that held every process's sends (`pause_after`
        429s within a second here: the tenant is over its rate)."""
        now = time.monotonic()
        self._throttles.append(now)
        if len(self._throttles) < (self._throttles.maxlen or 1) or now - self._throttles[0] > 1.0:
            return False
        self._pauses += 1
        self._throttles.clear()
        task = asyncio.get_running_loop().create_task(self._pause(retry_after))
        self._holding.add(task)
        task.add_done_callback(self._holding.discard)
        return True

    async def _pause(self, seconds: float) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(_PAUSE, {"name": TENANT_PACE, "seconds": max(0.0, seconds)})
            await connection.commit()


class ClockOffset:
    """How far the database's clock is ahead of this process's `time.monotonic()`.

    Each slot's answer is a sample: the database read its clock somewhere between the statement
    leaving and its answer being read here. The sample with the shortest round trip of the
    recent ones is the most exact (half its round trip at worst); one whose answer waited on a
    busy event loop is not believed.
    """

    def __init__(self, recent: int = 32) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=recent)

    def sample(self, database_now: float, sent: float, answered: float) -> float:
        """Adds one sample; returns the best estimate (database epoch minus monotonic)."""
        self._samples.append((answered - sent, database_now - (sent + answered) / 2))
        return min(self._samples)[1]
