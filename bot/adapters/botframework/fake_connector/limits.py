"""Teams' bot rate limits as sliding windows, pruned as they slide (O(1) amortised per request)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.notifications.rate_limit import TEAMS_CONVERSATION_LIMITS, TEAMS_TENANT_RATE

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limits:
    """Teams' documented bot rate limits: per app per tenant, and per conversation."""

    tenant_per_second: int = int(TEAMS_TENANT_RATE)
    per_conversation: tuple[tuple[int, float], ...] = TEAMS_CONVERSATION_LIMITS


class _Window:
    """Times of admitted requests within the last `seconds`, pruned as the window slides."""

    __slots__ = ("limit", "seconds", "times")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more request fits; 0 if it fits now."""
        times = self.times
        horizon = now - self.seconds
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[0] - horizon


class RateLimiter:
    """Sliding-window limits: one tenant-wide window plus one set per conversation."""

    def __init__(self, limits: Limits, clock: Clock = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._tenant = _Window(limits.tenant_per_second, 1.0)
        self._conversations: dict[str, tuple[_Window, ...]] = {}

    def admit(self, conversation_id: str | None) -> float:
        """0 and counted if the request fits every window, else the seconds until it would."""
        now = self._clock()
        windows: tuple[_Window, ...] = (self._tenant,)
        if conversation_id is not None:
            windows += self._windows(conversation_id)
        wait = max(window.wait(now) for window in windows)
        if wait > 0:
            return wait
        for window in windows:
            window.times.append(now)
        return 0.0

    def _windows(self, conversation_id: str) -> tuple[_Window, ...]:
        windows = self._conversations.get(conversation_id)
        if windows is None:
            windows = tuple(_Window(n, s) for n, s in self._limits.per_conversation)
            self._conversations[conversation_id] = windows
        return windows
