"""Teams' send limits: the tenant rate and the four per-conversation windows."""

from __future__ import annotations

import asyncio
import bisect
import time
from datetime import UTC, datetime

import pytest

from bot.notifications.rate_limit import (
    TEAMS_CONVERSATION_LIMITS,
    ConversationLimiter,
    RateLimiter,
)
from bot.notifications.testing import FakeTime


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` inside any half-open interval (t - window, t]."""
    ordered = sorted(times)
    return max(
        (index + 1 - bisect.bisect_right(ordered, moment - window))
        for index, moment in enumerate(ordered)
    )


def sends_to_one_person(limiter: ConversationLimiter, clock: FakeTime, count: int) -> list[float]:
    """Send as fast as the limiter allows, waiting exactly as long as it says."""
    sent = []
    while len(sent) < count:
        wait = limiter.try_acquire("anna")
        if wait > 0:
            clock.advance(wait)
        else:
            sent.append(clock.monotonic())
    return sent


def test_every_conversation_window_is_kept():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    sent = sends_to_one_person(limiter, clock, 1900)
    for count, window in TEAMS_CONVERSATION_LIMITS:
        assert most_in_any_window(sent, window) <= count, (count, window)


def test_conversation_windows_are_tight_not_just_slow():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    start = clock.monotonic()
    offsets = [moment - start for moment in sends_to_one_person(limiter, clock, 61)]
    assert offsets[:7] == [0.0] * 7  # 7 at once
    assert offsets[7] == pytest.approx(1.0)  # the 8th waits for the 1 s window
    assert offsets[8] == pytest.approx(2.0)  # the 9th for the 8/2 s window
    assert offsets[60] == pytest.approx(30.0)  # the 61st for the 60/30 s window
    assert offsets[59] < 30.0


def test_the_hourly_window_holds_after_1800_sends():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    start = clock.monotonic()
    sent = sends_to_one_person(limiter, clock, 1801)
    assert sent[1799] - start < 3600
    assert sent[1800] - start == pytest.approx(3600.0)


def test_conversations_are_limited_separately():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    for _ in range(7):
        assert limiter.try_acquire("anna") == 0
    assert limiter.try_acquire("anna") == pytest.approx(1.0)
    assert limiter.try_acquire("bertil") == 0


def test_a_refused_send_is_not_counted():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(((1, 10.0),), clock=clock.monotonic)
    assert limiter.try_acquire("anna") == 0
    for _ in range(5):
        assert limiter.try_acquire("anna") == pytest.approx(10.0)
    clock.advance(10)
    assert limiter.try_acquire("anna") == 0


def test_memory_is_bounded_by_the_last_hour():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    for number in range(6400):
        limiter.try_acquire(f"person-{number}")
        clock.advance(0.02)
    assert len(limiter) == 6400
    clock.advance(3600)
    limiter.try_acquire("someone-new")
    assert len(limiter) == 1


def test_people_sent_to_recently_are_remembered():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = ConversationLimiter(clock=clock.monotonic)
    limiter.try_acquire("early")
    clock.advance(1800)
    limiter.try_acquire("later")
    clock.advance(1801)
    limiter.try_acquire("latest")
    assert len(limiter) == 2


async def test_tenant_rate_spaces_sends_evenly():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = RateLimiter(50, clock=clock.monotonic, sleep=clock.sleep)
    start = clock.monotonic()
    sent = []
    for _ in range(500):
        await limiter.acquire()
        sent.append(clock.monotonic() - start)
    assert most_in_any_window(sent, 1.0) <= 50
    assert sent[-1] == pytest.approx(499 / 50)


async def test_burst_never_exceeds_the_rate_in_any_second():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = RateLimiter(10, burst=5, clock=clock.monotonic, sleep=clock.sleep)
    start = clock.monotonic()
    sent = []
    for _ in range(100):
        await limiter.acquire()
        sent.append(clock.monotonic() - start)
    assert sent[:5] == pytest.approx([0.0] * 5)
    assert most_in_any_window(sent, 1.0) <= 10
    assert sent[-1] == pytest.approx(9.6, abs=0.5)


async def test_concurrent_senders_keep_the_rate_on_a_real_clock():
    limiter = RateLimiter(100)
    sent: list[float] = []

    async def send() -> None:
        await limiter.acquire()
        sent.append(time.monotonic())

    await asyncio.gather(*(send() for _ in range(150)))
    assert len(sent) == 150
    # Read after acquire() returns, a busy loop can stamp an early send a few ms late: 0.99 s.
    assert most_in_any_window(sent, 0.99) <= 100


async def test_pause_holds_new_sends():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    limiter = RateLimiter(50, clock=clock.monotonic, sleep=clock.sleep)
    await limiter.acquire()
    paused_at = clock.monotonic()
    limiter.pause_for(30)
    await limiter.acquire()
    assert clock.monotonic() == pytest.approx(paused_at + 30)


async def test_pause_holds_sends_already_waiting_for_their_slot():
    clock = FakeTime(datetime(2026, 12, 1, tzinfo=UTC))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:  # a 429 arrives while this send waits for its slot
            limiter.pause_until(clock.monotonic() + 10)
        await clock.sleep(seconds)

    limiter = RateLimiter(1, clock=clock.monotonic, sleep=sleep)
    start = clock.monotonic()
    await limiter.acquire()
    await limiter.acquire()
    assert clock.monotonic() - start == pytest.approx(10)
    assert waits[0] == pytest.approx(1.0)


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(0)


async def test_fake_time_moves_on_for_a_wait_shorter_than_a_microsecond():
    """A wait a timedelta rounds to zero must still pass, or a limiter waiting it out spins."""
    fake = FakeTime(datetime(2027, 1, 12, 8, 0, tzinfo=UTC))
    before = fake.monotonic()
    await fake.sleep_together(3e-7)
    assert fake.monotonic() - before >= 3e-7
