"""Teams' send limits: per app per tenant, and per conversation over four sliding windows."""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Protocol

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

TEAMS_TENANT_RATE = 50.0
TEAMS_CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))


class TenantPace(Protocol):
    """What the dispatcher asks of the tenant's send rate, in one process or shared by many."""

    rate: float

    @property
    def pauses(self) -> int: ...

    async def acquire(self) -> None: ...

    def throttled(self, retry_after: float) -> bool: ...


class RateLimiter:
    """Evenly spaced sends at `rate` per second, never more than `rate` in any second.

    `burst` lets that many go at once after a quiet spell. `pause_until` holds every send of this
    process, including those already waiting for their slot; `throttled` pauses so only when
    `pause_after` Retry-After answers come within a second.
    """

    def __init__(
        self,
        rate: float = TEAMS_TENANT_RATE,
        *,
        burst: int = 1,
        pause_after: int = 5,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = -math.inf
        self._paused_until = -math.inf
        self._pauses = 0
        self._recent: deque[float] = deque(maxlen=max(1, math.floor(rate)))
        self._throttles: deque[float] = deque(maxlen=max(1, pause_after))

    @property
    def paused_until(self) -> float:
        return self._paused_until

    @property
    def pauses(self) -> int:
        """How many times every send was held (for benchmarks and logs)."""
        return self._pauses

    def pause_until(self, moment: float) -> None:
        """No send starts before `moment` (this limiter's clock)."""
        if moment > self._paused_until:
            self._paused_until = moment
            self._pauses += 1

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + seconds)

    def throttled(self, retry_after: float) -> bool:
        """A send was told to wait; True if that held every send (the tenant is over its rate).

        A lone 429 is usually one busy conversation or a blip, and its row already waits out the
        Retry-After: stopping all 50 sends a second for it would cost a second per 429.
        """
        now = self._clock()
        self._throttles.append(now)
        if len(self._throttles) < (self._throttles.maxlen or 1) or now - self._throttles[0] > 1.0:
            return False
        self.pause_until(now + retry_after)
        return True

    def reserve(self) -> float:
        """Takes the next free slot; returns the seconds until it comes."""
        now = self._clock()
        start = max(now, self._paused_until)
        due = max(self._next_slot, start)
        self._next_slot = due + self._interval
        return max(start, due - self._tolerance) - now

    async def acquire(self) -> None:
        """Returns when one send may start."""
        while True:
            pauses = self._pauses
            wait = self.reserve()
            if wait > 0:
                await self._sleep(wait)
            while (wait := self._window_wait(self._clock())) > 0:
                await self._sleep(wait)
            if pauses == self._pauses:
                self._recent.append(self._clock())
                return

    def _window_wait(self, now: float) -> float:
        """Late wake-ups can bunch up; the last `rate` sends must span a full second."""
        if len(self._recent) < (self._recent.maxlen or 0):
            return 0.0
        return self._recent[0] + 1.0 - now


class ConversationLimiter:
    """Per-recipient sliding windows (Teams: 7/1 s, 8/2 s, 60/30 s, 1800/3600 s)."""

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...] = TEAMS_CONVERSATION_LIMITS,
        *,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self._limits = limits
        self._horizon = max(window for _, window in limits)
        self._depth = max(count for count, _ in limits)
        self._clock = clock
        self._sends: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """How many recipients are remembered (those sent to within the longest window)."""
        return len(self._sends)

    def try_acquire(self, key: str) -> float:
        """0.0 and the send is counted if `key` may be sent to now; else seconds until it may."""
        now = self._clock()
        self._forget(now)
        sends = self._sends.get(key)
        if sends is None:
            sends = self._sends[key] = deque(maxlen=self._depth)
        ready = max(
            (sends[-count] + window for count, window in self._limits if len(sends) >= count),
            default=now,
        )
        if ready > now:
            return ready - now
        sends.append(now)
        self._sends.move_to_end(key)
        return 0.0

    def _forget(self, now: float) -> None:
        """Drops recipients whose every send has left the longest window."""
        while self._sends:
            key, sends = next(iter(self._sends.items()))
            if sends and sends[-1] > now - self._horizon:
                return
            del self._sends[key]
