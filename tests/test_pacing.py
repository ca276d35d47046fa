"""A paced send takes its slot at the wire and never goes late into the slots after it; the
database's clock is mapped onto this process's by the quickest recent round trip."""

from __future__ import annotations

import time

from bot import pacing
from bot.notifications.shared_pace import ClockOffset


class Slots:
    """Hands out slots at the given distances from now (seconds)."""

    def __init__(self, *distances: float) -> None:
        self._distances = list(distances)
        self.taken = 0

    async def take_slot(self) -> tuple[float, float]:
        self.taken += 1
        deadline = time.monotonic() + self._distances.pop(0)
        return deadline, deadline


async def test_an_unpaced_request_goes_at_once():
    assert await pacing.wait_for_slot() == 0


async def test_a_paced_request_waits_for_its_slot_once():
    slots = Slots(0.05)
    pacing.pace_this_send(slots)
    started = time.monotonic()
    assert await pacing.wait_for_slot() == 0
    assert time.monotonic() - started >= 0.05
    assert await pacing.wait_for_slot() == 0, "the next request of the task is not paced again"
    assert slots.taken == 1


async def test_a_send_too_late_for_its_slot_takes_a_new_one():
    slots = Slots(-0.5, 0.0)  # the first slot went by while the send was busy elsewhere
    pacing.pace_this_send(slots)
    assert await pacing.wait_for_slot() == 1
    assert slots.taken == 2


def test_the_quickest_round_trip_maps_the_clocks():
    clocks = ClockOffset()
    # The database read 1000.0 when this process's clock stood at 10.0 (offset 990).
    assert clocks.sample(1000.0, 9.999, 10.001) == 990.0
    # A reply that waited 50 ms on a busy loop would say 989.975: it is not believed.
    assert clocks.sample(1000.5, 10.5, 10.55) == 990.0
    assert clocks.sample(1001.0, 10.9995, 11.0005) == 990.0
