"""One id per turn, request or background job, carried by every log line written under it.

The id is random and says nothing about anyone; the apology a failed turn shows the employee
carries the same id, so the helpdesk can find the turn's lines from what the person tells them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[str] = ContextVar("correlation_id", default="")


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


def correlation_id() -> str:
    """The id of the turn or job under way, or "" outside any."""
    return _current.get()


def begin(correlation: str | None = None) -> str:
    """Starts a new id for the rest of this task (an aiohttp request, a job's run)."""
    value = correlation or new_correlation_id()
    _current.set(value)
    return value


@contextmanager
def correlated(correlation: str | None = None) -> Iterator[str]:
    """A new id for what runs inside the block, the old one back after it."""
    token = _current.set(correlation or new_correlation_id())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class CorrelationFilter(logging.Filter):
    """Puts the current id on every record as `correlation_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get() or "-"
        return True
