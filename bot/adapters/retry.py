"""When to retry an outgoing call and how long to wait: Teams' documented rules."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.notifications.retry import RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """Retry RETRYABLE_STATUSES and timeouts; honour Retry-After, else backoff with jitter."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def should_retry(self, status: int | None, attempt: int) -> bool:
        """`status` None means the request failed without an answer (timeout, reset)."""
        if attempt >= self.max_attempts:
            return False
        return status is None or status in RETRYABLE_STATUSES

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before attempt number `attempt + 1`."""
        honoured = parse_retry_after(retry_after)
        if honoured is not None:
            return min(honoured, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
