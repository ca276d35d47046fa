"""The current time, injectable so tests can stand on any day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def helsinki_today(now: datetime) -> date:
    """Days (windows, deduction months) turn at midnight in Pori, not in UTC."""
    return now.astimezone(HELSINKI).date()
