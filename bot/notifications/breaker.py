"""A circuit breaker: while the Bot Connector fails for everyone, stop sending instead of spending
every row's attempts on it, and try one row now and then to see whether it is back."""

from __future__ import annotations

from datetime import datetime, timedelta


def is_outage(status: int | None, reason: str) -> bool:
    """A 5xx or no answer at all: the connector (or the way to it) is failing, not the row."""
    return (status is not None and status >= 500) or (status is None and reason == "timeout")


class CircuitBreaker:
    """Opens after `threshold` outage failures in a row and holds every send for a pause; then one
    row is let through as a probe: its success closes the breaker, its failure doubles the pause
    (up to `longest_pause`). Any answer that is not an outage counts as a success."""

    def __init__(
        self,
        *,
        threshold: int = 10,
        first_pause: timedelta = timedelta(seconds=30),
        longest_pause: timedelta = timedelta(minutes=5),
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self._first_pause = first_pause
        self._longest_pause = longest_pause
        self._pause = first_pause
        self._failures = 0
        self._open_until: datetime | None = None
        self._probe: int | None = None

    @property
    def open_until(self) -> datetime | None:
        """None while closed; else when the next probe may go."""
        return self._open_until

    def room(self, now: datetime) -> int | None:
        """How many rows may be claimed now: None (no limit) while closed, 1 for a probe."""
        if self._open_until is None:
            return None
        if now < self._open_until or self._probe is not None:
            return 0
        return 1

    def probing(self, notification_id: int) -> None:
        self._probe = notification_id

    def holds(self, notification_id: int) -> bool:
        """A send about to start must wait: the breaker is open and this row is not its probe."""
        return self._open_until is not None and notification_id != self._probe

    def succeeded(self, notification_id: int) -> bool:
        """The connector answered; True if that closed the breaker."""
        self._failures = 0
        if self._open_until is None:
            return False
        self._open_until, self._probe, self._pause = None, None, self._first_pause
        return True

    def failed(self, notification_id: int, now: datetime) -> bool:
        """An outage failure; True if that opened the breaker (or kept it open for longer)."""
        if self._open_until is not None:
            if notification_id != self._probe:
                return False  # sent before the breaker opened
            self._pause = min(self._pause * 2, self._longest_pause)
            self._open_until, self._probe = now + self._pause, None
            return True
        self._failures += 1
        if self._failures < self.threshold:
            return False
        self._open_until = now + self._pause
        return True

    def settled(self, notification_id: int) -> None:
        """The row is done with, whatever came of it: a probe put back untried frees its place."""
        if notification_id == self._probe:
            self._probe = None
