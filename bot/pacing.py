"""A send's place in the tenant's rate, taken at the moment it goes on the wire.

With the shared pace (PostgreSQL) the dispatcher marks a send as paced; the send reads what it
needs from the database, and only right before its request to Teams takes its slot and waits
for it. The reads' varying time (a busy pool, say) then only delays the reservation, never puts
two sends closer together than the rate allows. A send that wakes too late for its slot (its
event loop was busy) takes a new one rather than crowd the slots after it. The mark travels
with the send's task (a context variable), so the layers in between need not carry it.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from typing import Protocol

# Later than this after its slot, a send waits for a new slot instead of going now.
LATE_TOLERANCE = 0.005


class SlotSource(Protocol):
    async def take_slot(self) -> tuple[float, float]:
        """The next slot: its start in the source's own time, and in `time.monotonic()`."""
        ...


_source: ContextVar[SlotSource | None] = ContextVar("send_slot_source", default=None)


def pace_this_send(source: SlotSource) -> None:
    """The next request of this task to Teams waits for a slot from `source`."""
    _source.set(source)


async def wait_for_slot() -> int:
    """Called right before a request to Teams: takes this task's slot and waits for it, once.
    Returns how many slots were missed (woken too late) on the way."""
    source = _source.get()
    if source is None:
        return 0
    _source.set(None)
    missed = 0
    while True:
        _, deadline = await source.take_slot()
        wait = deadline - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if time.monotonic() - deadline <= LATE_TOLERANCE:
            return missed
        missed += 1
