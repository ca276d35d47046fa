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

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (`retry_after` in seconds)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None, *, sent: str | None) -> float | None:
    """Retry-After in seconds: delta-seconds, or an HTTP date counted from the answer's own `Date`
    header (`sent`), so neither our clock nor its skew from the server's matters. None when absent
    or unreadable, or a date without a `Date` to count from."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when, answered = _http_date(value), _http_date(sent)
    if when is None or answered is None:
        return None
    return max(0.0, (when - answered).total_seconds())


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
