"""Teams' retry rules, the one source for every sender: what is worth another try, and when."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE_STATUSES = frozenset({412, 429, 500, 502, 503, 504})


def is_retryable(status: int | None) -> bool:
    """412, 429, 500 and 502-504, and no answer at all (`None`: timeout, reset): the Bot
    Connector answers 500 during its outages too, and they heal."""
    return status is None or status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryRules:
    """Honour Retry-After; else exponential backoff with full jitter."""

    base_delay: float = 2.0
    max_delay: float = 600.0
    max_retry_after: float = 3600.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the attempt after attempt number `attempt` (1 for the first)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return ceiling * self.random()
