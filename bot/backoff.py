"""Teams' retry rules, the one source for every sender: what is worth another try, and when."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({412, 429, 500, 502, 503, 504})


def is_retryable(status: int | None) -> bool:
    """412, 429, 500 and 502-504, and no answer at all (`None`: timeout, reset): the Bot
    Connector answers 500 during its outages too, and they heal."""
    return status is None or status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryRules:
    """Honour Retry-After (up to `max_retry_after`); else exponential backoff with jitter.

    `least_share` 0 is full jitter (anything up to the ceiling); 0.5 waits at least half of it.
    """

    base_delay: float = 2.0
    max_delay: float = 600.0
    max_retry_after: float = 3600.0
    least_share: float = 0.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the attempt after attempt number `attempt` (1 for the first)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return ceiling * (self.least_share + (1 - self.least_share) * self.random())


@dataclass(frozen=True)
class RetryPolicy:
    """One outgoing call's retries: a few quick ones, Retry-After honoured up to `max_delay`."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def should_retry(self, status: int | None, attempt: int) -> bool:
        """`status` None means the request failed without an answer (timeout, reset)."""
        return attempt < self.max_attempts and is_retryable(status)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (`retry_after` in seconds)."""
        rules = RetryRules(self.base_delay, self.max_delay, self.max_delay, least_share=0.5)
        return rules.delay(attempt, retry_after)


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
