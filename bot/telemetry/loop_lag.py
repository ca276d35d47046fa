"""Event-loop lag: how late a timer fires is how long every turn waits behind blocking work."""

from __future__ import annotations

import asyncio
import contextlib

from bot.telemetry.instruments import Instruments

TICK_SECONDS = 0.5


async def measure_loop_lag(
    instruments: Instruments, stop: asyncio.Event, tick: float = TICK_SECONDS
) -> None:
    """Sleeps `tick` again and again and records how much longer each sleep took."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick)
        if stop.is_set():
            return
        instruments.loop_lag(max(loop.time() - asked - tick, 0.0))
