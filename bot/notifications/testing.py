"""A scripted deliverer and a hand-moved clock, for tests and local benchmarks."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from bot.notifications.delivery import Delivered, DeliveryFailed, Outgoing


class FakeTime:
    """Wall clock and monotonic clock that move only when told to (or when slept on)."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self._monotonic = 1000.0
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    @property
    def sleepers(self) -> list[datetime]:
        """When each `sleep_until_moved` caller still waiting will wake."""
        return [until for until, future in self._sleepers if not future.done()]

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self._monotonic += seconds
        for until, future in self._sleepers:
            if until <= self.current and not future.done():
                future.set_result(None)
        self._sleepers = [item for item in self._sleepers if not item[1].done()]

    def set(self, moment: datetime) -> None:
        self.advance((moment - self.current).total_seconds())

    async def sleep(self, seconds: float) -> None:
        """Sleeping moves time on at once (one sleeper at a time makes exact schedules)."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    async def sleep_together(self, seconds: float) -> None:
        """Like `sleep`, but the clock moves to this sleeper's wake-up, not on by its length:
        sleepers that start together wake together (50 sends at 50/s take a second, not 25)."""
        if seconds > 0:
            # At least a microsecond: a wait too short for a timedelta must still move time, or
            # a sleeper that loops until its wait is over never sees it end.
            wake = self.current + max(timedelta(seconds=seconds), timedelta(microseconds=1))
            if wake > self.current:
                self.set(wake)
        await asyncio.sleep(0)

    async def sleep_until_moved(self, seconds: float) -> None:
        """Sleeping that does not move time: it ends when someone else moves the clock that far."""
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.current + timedelta(seconds=seconds), future))
        self.advance(0)
        await future


class FakeDeliverer:
    """Records every attempt; fails as scripted per recipient, else delivers.

    `stall_after(n)`: every delivery after the n-th goes out (it is recorded) but the call never
    returns, as when a process dies between sending and writing the result down.
    """

    def __init__(self, *, delay: float = 0.0, clock: FakeTime | None = None) -> None:
        self.delay = delay
        self.calls: list[Outgoing] = []
        self.delivered: list[Outgoing] = []
        self.call_times: list[float] = []
        self.stalled = 0
        self._clock = clock
        self._scripts: dict[str, list[DeliveryFailed | None]] = {}
        self._always: dict[str, DeliveryFailed] = {}
        self._everyone: DeliveryFailed | None = None
        self._stall_after: int | None = None
        self._changed = asyncio.Condition()

    def fail(self, recipient: str, *failures: DeliveryFailed | None) -> None:
        """The recipient's next attempts fail with these, in order (None delivers); then deliver."""
        self._scripts.setdefault(recipient, []).extend(failures)

    def fail_always(self, recipient: str, failure: DeliveryFailed) -> None:
        self._always[recipient] = failure

    def fail_everyone(self, failure: DeliveryFailed | None) -> None:
        """Every attempt fails so (the connector is down) until called with None."""
        self._everyone = failure

    def stall_after(self, deliveries: int | None) -> None:
        self._stall_after = deliveries

    def count(self, recipient: str) -> int:
        return sum(outgoing.recipient == recipient for outgoing in self.delivered)

    @property
    def duplicates(self) -> int:
        """Deliveries beyond the first to the same recipient of the same campaign."""
        counts = Counter((item.campaign_id, item.recipient) for item in self.delivered)
        return sum(count - 1 for count in counts.values())

    async def wait_until(self, *, delivered: int = 0, stalled: int = 0) -> None:
        """Until at least this many deliveries (and stalled calls) have happened."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: len(self.delivered) >= delivered and self.stalled >= stalled
            )

    async def deliver(self, outgoing: Outgoing) -> Delivered:
        self.calls.append(outgoing)
        self.call_times.append(self._clock.monotonic() if self._clock else 0.0)
        if self.delay:
            await asyncio.sleep(self.delay)
        script = self._scripts.get(outgoing.recipient)
        failure = script.pop(0) if script else self._always.get(outgoing.recipient)
        failure = self._everyone or failure
        if failure is not None:
            await self._notify()
            raise failure
        self.delivered.append(outgoing)
        if self._stall_after is not None and len(self.delivered) > self._stall_after:
            self.stalled += 1
            await self._notify()
            await asyncio.Event().wait()
        await self._notify()
        return Delivered(
            "continued", f"conversation-{outgoing.recipient}", f"activity-{len(self.delivered)}"
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
