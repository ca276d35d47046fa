"""The dispatcher: retries, final failures, working hours, crashes, and several workers at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backoff import RetryPolicy, RetryRules, is_retryable
from bot.clock import HELSINKI
from bot.db.engine import create_session_factory
from bot.notifications import outbox
from bot.notifications.breaker import CircuitBreaker
from bot.notifications.delivery import (
    INSTALL_FORBIDDEN,
    ConfigurationError,
    Delivered,
    DeliveryFailed,
    InstallForbidden,
    Outgoing,
)
from bot.notifications.dispatcher import FORBIDDEN_IN_A_ROW, Dispatcher
from bot.notifications.models import Notification
from bot.notifications.quiet_hours import WorkingHours
from bot.notifications.rate_limit import ConversationLimiter, RateLimiter
from bot.notifications.testing import FakeDeliverer, FakeTime
from tests.support.database import postgres_database, second_engine

TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=HELSINKI).astimezone(UTC)
TUESDAY_NIGHT = datetime(2026, 12, 1, 22, 0, tzinfo=HELSINKI).astimezone(UTC)
SATURDAY = datetime(2026, 12, 5, 12, 0, tzinfo=HELSINKI).astimezone(UTC)
WEDNESDAY_EIGHT = datetime(2026, 12, 2, 8, 0, tzinfo=HELSINKI).astimezone(UTC)
GUARD = 20  # seconds: only so that a broken dispatcher fails instead of hanging


def people(count: int) -> list[str]:
    return [f"person-{number:03}" for number in range(count)]


def build(engine: AsyncEngine, deliverer, time: FakeTime, **options) -> Dispatcher:
    """A dispatcher on fake time: the tenant rate never makes a test wait."""
    settings: dict = {
        "quiet_hours": WorkingHours(),
        "worker_id": "test",
        "rate": RateLimiter(10_000, burst=1000, clock=time.monotonic, sleep=time.sleep),
        "per_conversation": ConversationLimiter(clock=time.monotonic),
        "clock": time.now,
        "sleep": time.sleep,
        "retry": RetryRules(base_delay=2.0, random=lambda: 1.0),
        "concurrency": 10,
        "batch": 10,
        "flush_interval": 0.01,
        "poll_interval": 0.05,
    }
    settings.update(options)
    return Dispatcher(create_session_factory(engine), deliverer, **settings)


async def campaign(engine: AsyncEngine, recipients: list[str], key: str = "wave-1-open") -> int:
    async with create_session_factory(engine)() as session, session.begin():
        created = await outbox.create_campaign(
            session=session,
            key=key,
            kind="window_open",
            payload={"wave_id": 1},
            now=TUESDAY_MORNING,
        )
        await outbox.enqueue(
            session=session, campaign_id=created.id, recipients=recipients, now=TUESDAY_MORNING
        )
        return created.id


async def rows(engine: AsyncEngine) -> dict[str, Notification]:
    async with create_session_factory(engine)() as session:
        return {
            row.recipient: row
            for row in await session.scalars(select(Notification).order_by(Notification.id))
        }


async def count_in_state(engine: AsyncEngine, state: str) -> int:
    async with create_session_factory(engine)() as session:
        found = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.state == state)
        )
        return int(found or 0)


async def report(engine: AsyncEngine, campaign_id: int) -> outbox.CampaignReport:
    async with create_session_factory(engine)() as session:
        found = await outbox.campaign_report(session=session, campaign_id=campaign_id)
        assert found is not None
        return found


async def eventually_in_state(engine: AsyncEngine, state: str, expected: int) -> None:
    """Polls the database; the guard only turns a hang into a failure."""
    for _ in range(GUARD * 100):
        if await count_in_state(engine, state) == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {expected} rows {state}")


def utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


async def test_every_row_is_delivered_once_and_recorded(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    campaign_id = await campaign(engine, people(25))
    stats = await build(engine, deliverer, time).run_until_idle()
    assert len(deliverer.delivered) == 25 and deliverer.duplicates == 0
    assert (stats.claimed, stats.delivered) == (25, 25)
    result = await report(engine, campaign_id)
    assert result.counts["delivered"] == 25 and result.outcomes == {"continued": 25}
    row = (await rows(engine))["person-003"]
    assert (row.attempts, row.conversation_id, utc(row.sent_at)) == (
        1,
        "conversation-person-003",
        TUESDAY_MORNING,
    )
    first = deliverer.delivered[0]
    assert (first.kind, first.payload, first.attempt) == ("window_open", {"wave_id": 1}, 1)


async def test_retry_after_is_honoured_then_the_row_is_delivered(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail("anna", DeliveryFailed("throttled", status=429, retry_after=30))
    await campaign(engine, ["anna"])
    rate = RateLimiter(10_000, burst=1000, clock=time.monotonic, sleep=time.sleep)
    dispatcher = build(engine, deliverer, time, rate=rate)
    started = time.monotonic()
    await dispatcher.run_until_idle()
    row = (await rows(engine))["anna"]
    assert (row.state, row.last_status, row.reason, row.attempts) == (
        "pending",
        429,
        "throttled",
        1,
    )
    assert utc(row.next_attempt_at) == TUESDAY_MORNING + timedelta(seconds=30)
    assert rate.paused_until < started  # one 429 holds its own row, not the process
    time.advance(30)
    await dispatcher.run_until_idle()
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts) == ("delivered", 2)


async def test_429s_in_a_burst_pause_every_send_of_the_process(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer(clock=time)
    throttled = ["anna", "bea", "cecilia", "doris", "eeva"]
    for name in throttled:
        deliverer.fail(name, DeliveryFailed("throttled", status=429, retry_after=30))
    await campaign(sqlite_engine, [*throttled, *people(5)])
    dispatcher = build(sqlite_engine, deliverer, time, concurrency=1, batch=1)
    await dispatcher.run_until_idle()
    time.advance(30)
    await dispatcher.run_until_idle()
    first_tries = [
        index
        for index, call in enumerate(deliverer.calls)
        if call.recipient in throttled and call.attempt == 1
    ]
    third = max(first_tries)
    after = deliverer.call_times[third + 1 :]
    assert after and min(after) >= deliverer.call_times[third] + 30
    assert len(deliverer.delivered) == 10


async def test_a_lone_429_holds_only_its_own_row(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer(clock=time)
    deliverer.fail("anna", DeliveryFailed("throttled", status=429, retry_after=30))
    await campaign(sqlite_engine, ["anna", *people(5)])
    dispatcher = build(sqlite_engine, deliverer, time, concurrency=1, batch=1)
    await dispatcher.run_until_idle()
    assert len(deliverer.delivered) == 5
    assert max(deliverer.call_times) - min(deliverer.call_times) < 30
    assert (await rows(sqlite_engine))["anna"].state == "pending"
    time.advance(30)
    await dispatcher.run_until_idle()
    assert len(deliverer.delivered) == 6


@pytest.mark.parametrize(
    "failure",
    [
        DeliveryFailed("precondition_failed", status=412),
        DeliveryFailed("server_error", status=500),
        DeliveryFailed("bad_gateway", status=502),
        DeliveryFailed("server_error", status=503),
        DeliveryFailed("gateway_timeout", status=504),
        DeliveryFailed("timeout"),
    ],
    ids=["412", "500", "502", "503", "504", "timeout"],
)
async def test_transient_failures_back_off_exponentially(sqlite_engine, failure):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail("anna", failure, failure)
    await campaign(sqlite_engine, ["anna"])
    dispatcher = build(sqlite_engine, deliverer, time)
    await dispatcher.run_until_idle()
    first = (await rows(sqlite_engine))["anna"]
    assert (first.state, first.last_status, first.reason) == (
        "pending",
        failure.status,
        failure.reason,
    )
    assert utc(first.next_attempt_at) == TUESDAY_MORNING + timedelta(seconds=2)
    time.advance(2)
    await dispatcher.run_until_idle()
    second = (await rows(sqlite_engine))["anna"]
    assert utc(second.next_attempt_at) == TUESDAY_MORNING + timedelta(seconds=2 + 4)
    time.advance(4)
    await dispatcher.run_until_idle()
    assert (await rows(sqlite_engine))["anna"].state == "delivered"
    assert len(deliverer.calls) == 3


def test_one_set_of_retry_rules_for_the_outbox_and_the_connector():
    retried = [status for status in range(400, 600) if is_retryable(status)]
    assert retried == [412, 429, 500, 502, 503, 504] and is_retryable(None)
    assert [RetryPolicy().should_retry(status, 1) for status in (None, 500, 501, 502)] == [
        True,
        True,
        False,
        True,
    ]


async def test_backoff_has_full_jitter():
    rules = RetryRules(base_delay=2.0, max_delay=60.0, random=lambda: 0.25)
    assert [rules.delay(attempt) for attempt in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, 15.0]
    assert rules.delay(3, retry_after=7.5) == 7.5
    assert RetryRules(max_retry_after=60).delay(1, retry_after=99999) == 60


async def test_a_send_that_never_answers_times_out_and_is_retried(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer(delay=3600)
    await campaign(sqlite_engine, ["anna"])
    await build(sqlite_engine, deliverer, time, send_timeout=0.05).run_until_idle()
    row = (await rows(sqlite_engine))["anna"]
    assert (row.state, row.last_status, row.reason) == ("pending", None, "timeout")


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (DeliveryFailed("blocked", status=403, final=True), "blocked"),
        (DeliveryFailed("not_found", status=404, final=True), "not_found"),
        (DeliveryFailed("not_installed", final=True), "not_installed"),
        (DeliveryFailed("bad_request", status=400), "bad_request"),
        (DeliveryFailed("not_implemented", status=501), "not_implemented"),
    ],
    ids=["403", "404", "not-installed", "400", "501"],
)
async def test_final_failures_stop_at_once_with_their_reason(engine, failure, reason):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_always("anna", failure)
    campaign_id = await campaign(engine, ["anna", "bertil"])
    await build(engine, deliverer, time).run_until_idle()
    row = (await rows(engine))["anna"]
    assert (row.state, row.reason, row.last_status, row.attempts) == (
        "failed",
        reason,
        failure.status,
        1,
    )
    result = await report(engine, campaign_id)
    assert result.failures == {reason: 1} and result.counts["delivered"] == 1


async def test_retries_end_by_time_since_the_first_failure_not_by_a_count(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_always("anna", DeliveryFailed("server_error", status=503))
    await campaign(engine, ["anna"])
    dispatcher = build(engine, deliverer, time, give_up_after=timedelta(hours=1))
    await dispatcher.run_until_idle()
    while (row := (await rows(engine))["anna"]).state == "pending":
        assert row.next_attempt_at is not None
        time.set(utc(row.next_attempt_at))
        await dispatcher.run_until_idle()
    assert (row.state, row.reason, row.last_status) == ("failed", outbox.GAVE_UP, 503)
    # Backoff 2, 4, … 512 s, then every 600 s: the 15th attempt is the first after an hour.
    assert row.attempts == len(deliverer.calls) == 15
    assert utc(row.failing_since) == TUESDAY_MORNING
    assert time.now() - TUESDAY_MORNING >= timedelta(hours=1)


async def test_time_spent_waiting_for_working_hours_is_not_time_spent_trying(engine):
    afternoon = datetime(2026, 12, 1, 15, 59, 50, tzinfo=HELSINKI).astimezone(UTC)
    time = FakeTime(afternoon)
    deliverer = FakeDeliverer()
    deliverer.fail("anna", DeliveryFailed("server_error", status=500))
    await campaign(engine, ["anna"])
    dispatcher = build(engine, deliverer, time, give_up_after=timedelta(hours=1))
    await dispatcher.run_until_idle()
    time.set(afternoon + timedelta(seconds=2))
    await dispatcher.run_until_idle()  # 16:00 has passed: put back until the morning
    time.set(WEDNESDAY_EIGHT)
    await dispatcher.run_until_idle()
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts, row.failing_since) == ("delivered", 2, None)


async def claim_and_vanish(engine: AsyncEngine, worker: str, now: datetime) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        await outbox.claim(
            session=session, worker=worker, limit=1, now=now, lease=timedelta(seconds=60)
        )


async def test_an_attempt_lost_again_after_the_give_up_time_is_not_made(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    await campaign(sqlite_engine, ["anna"])
    await claim_and_vanish(sqlite_engine, "crashed", time.now())
    time.advance(61)
    await claim_and_vanish(sqlite_engine, "crashed-again", time.now())  # its clock starts
    time.advance(61)
    deliverer = FakeDeliverer()
    await build(
        sqlite_engine, deliverer, time, give_up_after=timedelta(seconds=60)
    ).run_until_idle()
    row = (await rows(sqlite_engine))["anna"]
    assert (row.state, row.reason) == ("failed", outbox.GAVE_UP)
    assert utc(row.failing_since) == TUESDAY_MORNING + timedelta(seconds=61)
    assert deliverer.calls == []


async def test_a_lost_attempt_within_the_give_up_time_is_made_again(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    await campaign(sqlite_engine, ["anna"])
    await claim_and_vanish(sqlite_engine, "crashed", time.now())
    time.advance(61)
    deliverer = FakeDeliverer()
    await build(sqlite_engine, deliverer, time).run_until_idle()
    row = (await rows(sqlite_engine))["anna"]
    assert (row.state, row.attempts, row.reason) == ("delivered", 2, None)
    assert len(deliverer.delivered) == 1


async def test_repeated_server_errors_pause_every_send_instead_of_spending_rows(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_everyone(DeliveryFailed("server_error", status=503))
    campaign_id = await campaign(engine, people(30))
    rate = RateLimiter(10, clock=time.monotonic, sleep=time.sleep)
    dispatcher = build(engine, deliverer, time, rate=rate, breaker=CircuitBreaker(threshold=3))
    await dispatcher.run_until_idle()
    # Three failures in a row open the breaker: the rows still waiting for the rate go back
    # untried, and nothing more is claimed.
    assert len(deliverer.calls) == 3
    found = Counter((row.state, row.attempts, row.reason) for row in (await rows(engine)).values())
    assert found == {
        ("pending", 1, "server_error"): 3,
        ("pending", 0, outbox.CONNECTOR_DOWN): 7,
        ("pending", 0, None): 20,
    }
    paused_until = dispatcher.paused_until
    assert paused_until is not None and paused_until - time.now() == timedelta(seconds=30)
    time.set(paused_until - timedelta(seconds=1))
    await dispatcher.run_until_idle()
    assert len(deliverer.calls) == 3
    time.set(paused_until)
    await dispatcher.run_until_idle()  # one row probes, fails: the pause doubles
    assert len(deliverer.calls) == 4
    assert dispatcher.paused_until == time.now() + timedelta(seconds=60)
    deliverer.fail_everyone(None)
    time.set(dispatcher.paused_until)
    stats = await dispatcher.run_until_idle()  # the probe gets through: everyone is sent to
    assert dispatcher.paused_until is None and stats.paused == 2
    assert len(deliverer.delivered) == 30 and len(deliverer.calls) == 34
    assert (await report(engine, campaign_id)).counts["delivered"] == 30


async def test_answers_that_are_not_outages_keep_the_breaker_closed(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    recipients = people(12)
    for number, recipient in enumerate(recipients):
        status = 403 if number % 3 == 2 else 503
        deliverer.fail(recipient, DeliveryFailed("x", status=status, final=status == 403))
    await campaign(sqlite_engine, recipients)
    dispatcher = build(sqlite_engine, deliverer, time, breaker=CircuitBreaker(threshold=3))
    await dispatcher.run_until_idle()
    assert dispatcher.paused_until is None and len(deliverer.calls) == 12


async def test_a_paused_dispatcher_sleeps_until_its_probe_may_go(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_everyone(DeliveryFailed("server_error", status=500))
    await campaign(sqlite_engine, people(3))
    dispatcher = build(
        sqlite_engine,
        deliverer,
        time,
        breaker=CircuitBreaker(threshold=1),
        concurrency=1,
        batch=1,
        poll_interval=3600,
        sleep=time.sleep_until_moved,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    assert await sleeping(time) == [TUESDAY_MORNING + timedelta(seconds=30)]
    assert len(deliverer.calls) == 1
    deliverer.fail_everyone(None)
    time.advance(30)
    await asyncio.wait_for(deliverer.wait_until(delivered=3), GUARD)
    stop.set()
    await asyncio.wait_for(running, GUARD)
    assert await count_in_state(sqlite_engine, "delivered") == 3


async def test_a_configuration_error_stops_the_dispatcher_with_every_row_still_waiting(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_everyone(ConfigurationError("install_failed", status=403, message="grant it"))
    campaign_id = await campaign(engine, people(30))
    rate = RateLimiter(10, clock=time.monotonic, sleep=time.sleep)
    dispatcher = build(engine, deliverer, time, rate=rate)
    await asyncio.wait_for(dispatcher.run_forever(asyncio.Event()), GUARD)  # ends by itself
    assert dispatcher.configuration_error == "grant it" and len(deliverer.calls) == 1
    found = Counter((row.state, row.attempts, row.reason) for row in (await rows(engine)).values())
    assert found == {("pending", 0, outbox.CONFIGURATION): 10, ("pending", 0, None): 20}
    assert (await report(engine, campaign_id)).counts["failed"] == 0
    await dispatcher.run_until_idle()
    assert len(deliverer.calls) == 1


class ExplodingDeliverer:
    async def deliver(self, outgoing: Outgoing) -> Delivered:
        raise RuntimeError("card template missing")


async def test_an_unexpected_error_is_retried_not_lost(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    await campaign(sqlite_engine, ["anna"])
    await build(sqlite_engine, ExplodingDeliverer(), time).run_until_idle()
    row = (await rows(sqlite_engine))["anna"]
    assert (row.state, row.reason) == ("pending", "error")
    assert row.last_error is not None and "card template missing" in row.last_error


@pytest.mark.parametrize("moment", [TUESDAY_NIGHT, SATURDAY], ids=["tuesday-22", "saturday"])
async def test_nothing_is_sent_outside_working_hours(engine, moment):
    time = FakeTime(moment)
    deliverer = FakeDeliverer()
    await campaign(engine, people(5))
    dispatcher = build(engine, deliverer, time)
    await dispatcher.run_until_idle()
    assert deliverer.calls == [] and await count_in_state(engine, "pending") == 5
    time.set(WEDNESDAY_EIGHT if moment == TUESDAY_NIGHT else SATURDAY + timedelta(days=2))
    await dispatcher.run_until_idle()
    assert len(deliverer.delivered) == 5


async def sleeping(time: FakeTime) -> list[datetime]:
    """Until someone sleeps on the fake clock; the guard only turns a hang into a failure."""
    for _ in range(GUARD * 100):
        if time.sleepers:
            return time.sleepers
        await asyncio.sleep(0.01)
    raise AssertionError("nobody ever slept")


async def test_a_running_dispatcher_sleeps_through_the_night_and_resumes_at_eight(sqlite_engine):
    time = FakeTime(TUESDAY_NIGHT)
    deliverer = FakeDeliverer()
    await campaign(sqlite_engine, people(5))
    dispatcher = build(
        sqlite_engine, deliverer, time, poll_interval=3600, sleep=time.sleep_until_moved
    )
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    assert await sleeping(time) == [WEDNESDAY_EIGHT]
    time.set(WEDNESDAY_EIGHT - timedelta(minutes=1))
    assert time.sleepers == [WEDNESDAY_EIGHT] and deliverer.calls == []
    time.set(WEDNESDAY_EIGHT)  # nothing else wakes it: the night's sleep ends at 08:00
    await asyncio.wait_for(deliverer.wait_until(delivered=5), GUARD)
    stop.set()
    await asyncio.wait_for(running, GUARD)
    assert await count_in_state(sqlite_engine, "delivered") == 5


async def test_wake_wakes_an_idle_dispatcher_at_once(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    dispatcher = build(engine, deliverer, time, poll_interval=3600)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    await asyncio.sleep(0.05)
    await campaign(engine, people(3))
    dispatcher.wake()
    await asyncio.wait_for(deliverer.wait_until(delivered=3), GUARD)
    await campaign(engine, people(4), key="announcement-1")
    dispatcher.wake()
    await asyncio.wait_for(deliverer.wait_until(delivered=7), GUARD)
    stop.set()
    await asyncio.wait_for(running, GUARD)
    await eventually_in_state(engine, "delivered", 7)


async def test_a_crash_loses_nothing_and_repeats_only_rows_in_flight(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.stall_after(15)
    recipients = people(40)
    campaign_id = await campaign(engine, recipients)
    first = build(engine, deliverer, time, worker_id="first", concurrency=8, batch=8)
    running = asyncio.create_task(first.run_until_idle())
    await asyncio.wait_for(deliverer.wait_until(delivered=15, stalled=8), GUARD)
    # Sent and answered rows are written down while the stalled sends still hang.
    await eventually_in_state(engine, "delivered", 15)
    in_flight = await count_in_state(engine, "sending")
    assert in_flight == first.in_flight == 8
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    deliverer.stall_after(None)
    second = build(engine, deliverer, time, worker_id="second")
    await second.run_until_idle()
    assert await count_in_state(engine, "sending") == in_flight  # their lease still runs
    time.advance(61)
    await second.run_until_idle()
    result = await report(engine, campaign_id)
    assert result.counts["delivered"] == 40
    assert {item.recipient for item in deliverer.delivered} == set(recipients)
    assert deliverer.duplicates <= in_flight


async def test_a_graceful_stop_gives_back_rows_still_waiting_for_their_turn(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    await campaign(sqlite_engine, people(6))
    held = RateLimiter(10)
    held.pause_for(3600)
    dispatcher = build(sqlite_engine, deliverer, time, rate=held, concurrency=4, batch=4)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    await eventually_in_state(sqlite_engine, "sending", 4)
    stop.set()
    await asyncio.wait_for(running, GUARD)
    stored = await rows(sqlite_engine)
    assert {(row.state, row.attempts) for row in stored.values()} == {("pending", 0)}
    assert deliverer.calls == [] and dispatcher.in_flight == 0


async def test_a_busy_conversation_waits_or_is_put_back_without_spending_an_attempt(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer(clock=time)
    for number in range(10):
        await campaign(engine, ["anna"], key=f"announcement-{number}")
    dispatcher = build(engine, deliverer, time, max_conversation_wait=0.5)
    stats = await dispatcher.run_until_idle()
    assert (len(deliverer.delivered), stats.postponed) == (7, 3)
    waiting = [row for row in (await rows(engine)).values() if row.state == "pending"]
    assert {row.attempts for row in waiting} == {0}
    for _ in range(5):
        time.advance(1)
        await dispatcher.run_until_idle()
    assert len(deliverer.delivered) == 10
    times = sorted(deliverer.call_times)
    assert all(later - earlier >= 1 for earlier, later in zip(times, times[7:], strict=False))


def fill_conversation(limiter: ConversationLimiter, recipient: str) -> None:
    """Teams allows 7 sends a second to one conversation: the next must wait a second."""
    for _ in range(7):
        assert limiter.try_acquire(recipient) == 0


@pytest.mark.parametrize("held_by", ["tenant-pause", "conversation"])
async def test_a_row_held_past_working_hours_waits_for_the_next_morning(engine, held_by):
    time = FakeTime(datetime(2026, 12, 1, 15, 59, 59, 500_000, tzinfo=HELSINKI).astimezone(UTC))
    deliverer = FakeDeliverer()
    campaign_id = await campaign(engine, ["anna"])
    rate = RateLimiter(10_000, burst=1000, clock=time.monotonic, sleep=time.sleep)
    conversations = ConversationLimiter(clock=time.monotonic)
    if held_by == "tenant-pause":
        rate.pause_for(120)
    else:
        fill_conversation(conversations, "anna")
    dispatcher = build(engine, deliverer, time, rate=rate, per_conversation=conversations)
    stats = await dispatcher.run_until_idle()
    assert deliverer.calls == [] and (stats.claimed, stats.postponed) == (1, 1)
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts, utc(row.next_attempt_at)) == ("pending", 0, WEDNESDAY_EIGHT)
    time.set(WEDNESDAY_EIGHT - timedelta(seconds=1))
    await dispatcher.run_until_idle()
    assert deliverer.calls == []
    time.set(WEDNESDAY_EIGHT)
    await dispatcher.run_until_idle()
    row = (await rows(engine))["anna"]
    assert (row.state, row.attempts) == ("delivered", 1)
    assert (await report(engine, campaign_id)).counts["delivered"] == 1


async def test_a_long_retry_after_pauses_the_process_no_longer_than_a_row_waits(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer(clock=time)
    throttled = ["anna", "bea", "cecilia", "doris", "eeva"]
    for name in throttled:
        deliverer.fail(name, DeliveryFailed("throttled", status=429, retry_after=86_400))
    await campaign(sqlite_engine, [*throttled, *people(3)])
    rate = RateLimiter(10_000, burst=1000, clock=time.monotonic, sleep=time.sleep)
    capped = RetryRules(max_retry_after=60, random=lambda: 1.0)
    dispatcher = build(
        sqlite_engine, deliverer, time, rate=rate, retry=capped, concurrency=1, batch=1
    )
    await dispatcher.run_until_idle()
    paused_at = deliverer.call_times[len(throttled) - 1]
    assert rate.paused_until == pytest.approx(paused_at + 60)
    held = deliverer.call_times[len(throttled) :]
    assert len(held) == 8 and min(held) == pytest.approx(paused_at + 60)
    assert len(deliverer.delivered) == 8 and max(held) < paused_at + 61


async def test_a_cancelled_campaign_sends_nothing_more(engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    campaign_id = await campaign(engine, people(5))
    async with create_session_factory(engine)() as session, session.begin():
        assert (
            await outbox.cancel_campaign(
                session=session, campaign_id=campaign_id, now=TUESDAY_MORNING
            )
            == 5
        )
    await build(engine, deliverer, time).run_until_idle()
    assert deliverer.calls == []
    assert (await report(engine, campaign_id)).counts["cancelled"] == 5


@pytest.mark.postgres
async def test_two_dispatchers_on_postgres_deliver_each_row_exactly_once():
    async with postgres_database() as first_engine:
        async with second_engine(first_engine) as other_engine:
            recipients = people(500)
            campaign_id = await campaign(first_engine, recipients)
            deliverer = FakeDeliverer(delay=0.001)
            workers = [
                Dispatcher(
                    create_session_factory(engine),
                    deliverer,
                    quiet_hours=None,
                    worker_id=name,
                    rate=RateLimiter(10_000, burst=1000),
                    clock=lambda: TUESDAY_MORNING,
                    concurrency=20,
                    batch=10,
                    flush_interval=0.01,
                )
                for name, engine in (("one", first_engine), ("two", other_engine))
            ]
            both = asyncio.gather(*(worker.run_until_idle() for worker in workers))
            stats = await asyncio.wait_for(both, 60)
        assert len(deliverer.delivered) == 500 and deliverer.duplicates == 0
        assert {item.recipient for item in deliverer.delivered} == set(recipients)
        assert all(worker.claimed > 0 for worker in stats)
        assert sum(worker.delivered for worker in stats) == 500
        assert (await report(first_engine, campaign_id)).counts["delivered"] == 500


async def test_slow_sends_keep_their_lease(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.stall_after(0)
    await campaign(sqlite_engine, ["anna"])
    dispatcher = build(sqlite_engine, deliverer, time, lease=0.3)
    running = asyncio.create_task(dispatcher.run_until_idle())
    try:
        await asyncio.wait_for(deliverer.wait_until(stalled=1), GUARD)
        time.advance(10)
        renewed = TUESDAY_MORNING + timedelta(seconds=10.3)
        for _ in range(GUARD * 100):
            if utc((await rows(sqlite_engine))["anna"].lease_until) == renewed:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the lease was never renewed")
        async with create_session_factory(sqlite_engine)() as session, session.begin():
            stolen = await outbox.claim(
                session=session,
                worker="other",
                limit=10,
                now=time.now(),
                lease=timedelta(seconds=60),
            )
        assert stolen == []
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


async def test_a_probe_that_never_reached_the_connector_keeps_the_breaker_open(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_everyone(DeliveryFailed("server_error", status=503))
    recipients = people(5)
    await campaign(sqlite_engine, recipients)
    rate = RateLimiter(10, clock=time.monotonic, sleep=time.sleep)
    dispatcher = build(
        sqlite_engine, deliverer, time, rate=rate, breaker=CircuitBreaker(threshold=3)
    )
    await dispatcher.run_until_idle()
    paused_until = dispatcher.paused_until
    assert paused_until is not None
    # Each probe fails before any call to the Bot Connector (the person removed the app, say):
    # that says nothing of the connector, so the breaker stays open and another row probes.
    deliverer.fail_everyone(DeliveryFailed("app_removed", final=True, reached_connector=False))
    time.set(paused_until)
    await dispatcher.run_until_idle()
    assert len(deliverer.calls) > 3
    assert dispatcher.paused_until == paused_until


async def test_one_refused_install_is_that_persons_and_is_tried_again(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail("person-001", InstallForbidden(INSTALL_FORBIDDEN, status=403))
    await campaign(sqlite_engine, people(6))
    dispatcher = build(sqlite_engine, deliverer, time)
    await dispatcher.run_until_idle()
    assert not dispatcher.halted.is_set()
    found = {name: (row.state, row.reason) for name, row in (await rows(sqlite_engine)).items()}
    assert found.pop("person-001") == ("pending", INSTALL_FORBIDDEN)
    assert set(found.values()) == {("delivered", None)}


async def test_installs_refused_for_several_in_a_row_stop_sending_as_misconfigured(sqlite_engine):
    time = FakeTime(TUESDAY_MORNING)
    deliverer = FakeDeliverer()
    deliverer.fail_everyone(InstallForbidden(INSTALL_FORBIDDEN, status=403, message="grant it"))
    campaign_id = await campaign(sqlite_engine, people(20))
    rate = RateLimiter(1, clock=time.monotonic, sleep=time.sleep)
    dispatcher = build(sqlite_engine, deliverer, time, rate=rate)
    await asyncio.wait_for(dispatcher.run_forever(asyncio.Event()), GUARD)  # ends by itself
    assert dispatcher.configuration_error == "grant it"
    assert len(deliverer.calls) == FORBIDDEN_IN_A_ROW
    assert (await report(sqlite_engine, campaign_id)).counts["failed"] == 0
    assert await count_in_state(sqlite_engine, "pending") == 20


async def test_the_give_up_time_counts_only_working_hours(engine):
    hours = WorkingHours()
    afternoon = datetime(2026, 12, 1, 15, 59, 50, tzinfo=HELSINKI).astimezone(UTC)
    time = FakeTime(afternoon)
    deliverer = FakeDeliverer()
    deliverer.fail_always("anna", DeliveryFailed("server_error", status=503))
    await campaign(engine, ["anna"])
    dispatcher = build(engine, deliverer, time, give_up_after=timedelta(hours=1))
    await dispatcher.run_until_idle()
    while (row := (await rows(engine))["anna"]).state == "pending":
        assert row.next_attempt_at is not None
        time.set(hours.next_allowed(max(utc(row.next_attempt_at), time.now())))
        await dispatcher.run_until_idle()
    # Ten seconds on Tuesday and the night count for nothing: it tries until Wednesday 8.59.50.
    assert (row.state, row.reason) == ("failed", outbox.GAVE_UP)
    assert time.now() >= WEDNESDAY_EIGHT + timedelta(minutes=59, seconds=50)
