"""Sends what the outbox holds: claims a few rows at a time, keeps Teams' limits, settles each row.

Rows claimed but not yet written back are the only ones a crash can send twice, so the dispatcher
holds at most `concurrency` of them and writes results back within `flush_interval`. While the
Bot Connector fails for everyone, a circuit breaker stops claiming and probes with one row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.backoff import RetryRules, is_retryable
from bot.clock import Clock
from bot.db.sessions import SessionFactory
from bot.notifications import outbox
from bot.notifications.breaker import CircuitBreaker, is_outage
from bot.notifications.delivery import (
    ConfigurationError,
    Deliverer,
    DeliveryFailed,
    InstallForbidden,
    Outgoing,
)
from bot.notifications.outbox import CONFIGURATION, CONNECTOR_DOWN, GAVE_UP, Settlement
from bot.notifications.quiet_hours import WorkingHours
from bot.notifications.rate_limit import ConversationLimiter, RateLimiter, TenantPace
from bot.telemetry.correlation import begin
from bot.telemetry.providers import Telemetry
from bot.telemetry.spans import operation

log = logging.getLogger(__name__)

# Graph refusing to install the app for this many people in a row, nobody reached in between,
# is a permission missing for everyone rather than a policy for one person.
FORBIDDEN_IN_A_ROW = 5

Sleep = Callable[[float], Awaitable[None]]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchStats:
    """What this dispatcher has done since it was built."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0
    paused: int = 0
    writes: int = 0


class Dispatcher:
    """Claims due outbox rows and delivers them within Teams' limits and working hours."""

    def __init__(
        self,
        sessions: SessionFactory,
        deliverer: Deliverer,
        *,
        quiet_hours: WorkingHours | None,
        worker_id: str | None = None,
        rate: TenantPace | None = None,
        per_conversation: ConversationLimiter | None = None,
        clock: Clock,
        give_up_after: timedelta = timedelta(hours=24),
        concurrency: int = 50,
        batch: int = 50,
        lease: float = 60.0,
        retry: RetryRules | None = None,
        breaker: CircuitBreaker | None = None,
        send_timeout: float = 120.0,
        flush_interval: float = 0.1,
        poll_interval: float = 2.0,
        max_conversation_wait: float = 5.0,
        sleep: Sleep = asyncio.sleep,
        telemetry: Telemetry | None = None,
    ) -> None:
        if concurrency < 1 or batch < 1:
            raise ValueError("concurrency and batch must be at least 1")
        self._sessions = sessions
        self._deliverer = deliverer
        self._quiet_hours = quiet_hours
        self.worker_id = worker_id or default_worker_id()
        self._rate: TenantPace = RateLimiter() if rate is None else rate
        self._conversations = (
            ConversationLimiter() if per_conversation is None else per_conversation
        )
        self._clock = clock
        self._give_up_after = give_up_after
        self._concurrency = concurrency
        self._batch = batch
        self._lease = timedelta(seconds=lease)
        self._retry = retry or RetryRules()
        self._breaker = breaker or CircuitBreaker()
        self._send_timeout = send_timeout
        self._flush_interval = flush_interval
        self._poll_interval = poll_interval
        self._max_conversation_wait = max_conversation_wait
        self._sleep = sleep
        telemetry = telemetry or Telemetry.off()
        self._instruments = telemetry.instruments
        self._tracer = telemetry.tracer
        self.stats = DispatchStats()
        self.configuration_error: str | None = None
        self.halted = asyncio.Event()
        self._forbidden_in_a_row = 0
        self._wake = asyncio.Event()
        self._tasks: dict[asyncio.Task[Settlement], Outgoing] = {}
        self._delivering: set[int] = set()
        self._unsettled: set[int] = set()
        self._done: list[Settlement] = []
        self._first_done_at = 0.0
        self._leases_renewed_at = time.monotonic()
        self._quiet_until = 0.0

    @property
    def rate(self) -> TenantPace:
        return self._rate

    @property
    def paused_until(self) -> datetime | None:
        """While the Bot Connector is failing for everyone: when the next probe may go."""
        return self._breaker.open_until

    @property
    def in_flight(self) -> int:
        """Rows claimed and not yet written back: at most this many can go twice after a crash."""
        return len(self._unsettled)

    def wake(self) -> None:
        """New rows were enqueued: look for them now rather than at the next poll."""
        self._wake.set()

    async def run_until_idle(self) -> DispatchStats:
        """Sends all that is claimable now, then returns (tests, the CLI, benchmarks)."""
        try:
            while True:
                await self._fill()
                if not self._tasks:
                    await self._flush()
                    self._quiet_until = 0.0
                    if not await self._fill():
                        return self.stats
                    continue
                await self._step()
        except BaseException:
            self._abandon()
            raise

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set, then finishes the sends under way and gives the rest back."""
        try:
            while not stop.is_set() and not self.halted.is_set():
                try:
                    await self._fill()
                    if self._tasks or self._done:
                        await self._step()
                    else:
                        await self._idle(stop)
                except Exception:
                    log.exception("notification dispatcher round failed; trying again shortly")
                    await _first(stop.wait(), self._poll_interval)
            await self._drain()
        except BaseException:
            self._abandon()
            raise

    async def _fill(self) -> int:
        """Claims rows into the free room, unless outside working hours, paused by the breaker
        (then one row at a time probes), or recently found none."""
        if self._wake.is_set():
            self._wake.clear()
            self._quiet_until = 0.0
        room = self._concurrency - len(self._unsettled)
        if room < 1 or time.monotonic() < self._quiet_until or self.halted.is_set():
            return 0
        now = self._clock()
        if self._quiet_hours is not None and not self._quiet_hours.allows(now):
            return 0
        probes = self._breaker.room(now)
        if probes is not None:
            room = min(room, probes)
            if room < 1:
                return 0
        wanted = min(room, self._batch)
        async with self._sessions() as session, session.begin():
            claimed = await outbox.claim(
                session=session, worker=self.worker_id, limit=wanted, now=now, lease=self._lease
            )
        if len(claimed) < wanted:
            self._quiet_until = time.monotonic() + self._poll_interval
        if probes is not None and claimed:
            self._breaker.probing(claimed[0].notification_id)
        for outgoing in claimed:
            self._unsettled.add(outgoing.notification_id)
            self._tasks[asyncio.create_task(self._send(outgoing))] = outgoing
        self.stats.claimed += len(claimed)
        return len(claimed)

    async def _step(self) -> None:
        """Waits for a send to finish (or the next write-back), then writes back if it is time."""
        if self._tasks:
            done, _ = await asyncio.wait(
                self._tasks, timeout=self._next_deadline(), return_when=asyncio.FIRST_COMPLETED
            )
            self._collect(done)
        now = time.monotonic()
        if (
            not self._tasks
            or len(self._done) >= self._batch
            or (self._done and now - self._first_done_at >= self._flush_interval)
            or now - self._leases_renewed_at >= self._lease.total_seconds() / 3
        ):
            await self._flush()

    def _next_deadline(self) -> float:
        now = time.monotonic()
        deadlines = [
            self._poll_interval,
            self._leases_renewed_at + self._lease.total_seconds() / 3 - now,
        ]
        if self._done:
            deadlines.append(self._first_done_at + self._flush_interval - now)
        return max(0.0, min(deadlines))

    def _collect(self, done: set[asyncio.Task[Settlement]]) -> None:
        for task in done:
            outgoing = self._tasks.pop(task)
            now = self._clock()
            if task.cancelled():
                settlement = outbox.postpone(outgoing, now, now)
            elif (error := task.exception()) is not None:
                log.error(
                    "sending notification %s failed", outgoing.notification_id, exc_info=error
                )
                settlement = self._failure(outgoing, None, "error", None, False, error)
            else:
                settlement = task.result()
            if not self._done:
                self._first_done_at = time.monotonic()
            self._done.append(settlement)

    async def _flush(self) -> None:
        """Writes finished rows back and renews the leases of the rest, in one transaction."""
        renew = time.monotonic() - self._leases_renewed_at >= self._lease.total_seconds() / 3
        done = list(self._done)
        settled = {settlement.notification_id for settlement in done}
        waiting = sorted(self._unsettled - settled) if renew else []
        if done or waiting:
            async with self._sessions() as session, session.begin():
                await outbox.settle(session=session, settlements=done)
                await outbox.extend_leases(
                    session=session,
                    worker=self.worker_id,
                    notification_ids=waiting,
                    until=self._clock() + self._lease,
                )
        if renew:
            self._leases_renewed_at = time.monotonic()
        del self._done[: len(done)]
        self._unsettled -= settled
        for settlement in done:
            self._count(settlement)

    def _count(self, settlement: Settlement) -> None:
        stats = self.stats
        if settlement.state == "delivered":
            stats.delivered += 1
            outcome = "delivered"
        elif settlement.state == "failed":
            stats.failed += 1
            outcome = "failed"
        elif settlement.attempts < settlement.attempt:
            stats.postponed += 1
            outcome = "postponed"
        else:
            stats.retried += 1
            outcome = "retry"
        stats.writes += 1
        self._instruments.send(outcome, settlement.status)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Nothing to do: sleep until woken, stopped, the next poll, working hours begin, or the
        breaker lets a probe go."""
        now = self._clock()
        until: Awaitable[None] | float = max(self._quiet_until - time.monotonic(), 0.0)
        paused_until = self._breaker.open_until
        if self._quiet_hours is not None and not self._quiet_hours.allows(now):
            seconds = (self._quiet_hours.next_allowed(now) - now).total_seconds()
            log.info("outside working hours; sending resumes in %.0f s", seconds)
            until = self._sleep(seconds)
        elif paused_until is not None and paused_until > now:
            until = self._sleep((paused_until - now).total_seconds())
        await _first(stop.wait(), until, self._wake.wait())
        self._quiet_until = 0.0

    async def _drain(self) -> None:
        """Graceful stop: sends under way finish, rows still waiting for their slot go back."""
        for task, outgoing in self._tasks.items():
            if outgoing.notification_id not in self._delivering:
                task.cancel()
        if self._tasks:
            done, _ = await asyncio.wait(self._tasks)
            self._collect(done)
        await self._flush()

    def _abandon(self) -> None:
        """Cancelled (a crash, as far as the outbox knows): unwritten rows wait out their lease."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._delivering.clear()
        self._unsettled.clear()
        self._done.clear()

    async def _send(self, outgoing: Outgoing) -> Settlement:
        """One attempt; whatever comes of it, a probe's place is freed for the next one. Its
        log lines carry an id of their own (this task's)."""
        begin()
        try:
            with operation(self._tracer, "notification send"):
                return await self._attempt(outgoing)
        finally:
            self._breaker.settled(outgoing.notification_id)

    async def _attempt(self, outgoing: Outgoing) -> Settlement:
        """One attempt for one row, once the tenant rate, its conversation, the hour and the
        breaker allow it."""
        if outgoing.lost and self._out_of_time(outgoing, self._clock()):
            return outbox.failed(
                outgoing,
                self._clock(),
                status=None,
                reason=GAVE_UP,
                error="its attempts kept being lost (the dispatcher stopped mid-send)",
            )
        while True:
            await self._rate.acquire()
            wait = self._conversations.try_acquire(outgoing.recipient)
            if wait <= 0:
                break
            if wait > self._max_conversation_wait:
                now = self._clock()
                return outbox.postpone(outgoing, now + timedelta(seconds=wait), now)
            await self._sleep(wait)
        now = self._clock()
        if self._quiet_hours is not None and not self._quiet_hours.allows(now):
            return outbox.postpone(outgoing, self._quiet_hours.next_allowed(now), now)
        if self.configuration_error is not None:
            return outbox.postpone(outgoing, now, now, reason=CONFIGURATION)
        paused_until = self._breaker.open_until
        if paused_until is not None and self._breaker.holds(outgoing.notification_id):
            return outbox.postpone(outgoing, max(paused_until, now), now, reason=CONNECTOR_DOWN)
        self._delivering.add(outgoing.notification_id)
        try:
            async with asyncio.timeout(self._send_timeout):
                result = await self._deliverer.deliver(outgoing)
        except ConfigurationError as error:
            self._halt(error)
            now = self._clock()
            return outbox.postpone(outgoing, now, now, reason=CONFIGURATION, error=str(error))
        except InstallForbidden as refused:
            return self._install_forbidden(outgoing, refused)
        except DeliveryFailed as failure:
            if failure.reached_connector:
                self._observe(outgoing, failure.status, failure.reason)
            return self._failure(
                outgoing,
                failure.status,
                failure.reason,
                failure.retry_after,
                failure.final,
                failure,
            )
        except TimeoutError as error:
            self._observe(outgoing, None, "timeout")
            return self._failure(outgoing, None, "timeout", None, False, error)
        except Exception as error:
            log.exception("deliverer raised on notification %s", outgoing.notification_id)
            return self._failure(outgoing, None, "error", None, False, error)
        finally:
            self._delivering.discard(outgoing.notification_id)
        if result.reached_connector:
            self._observe(outgoing, 200, "delivered")
            self._forbidden_in_a_row = 0
        return outbox.delivered(outgoing, result, self._clock())

    def _install_forbidden(self, outgoing: Outgoing, refused: InstallForbidden) -> Settlement:
        """One refusal is that person's (tried again later); several in a row with nobody reached
        between them is a permission missing for everyone, so sending stops as misconfigured."""
        self._forbidden_in_a_row += 1
        now = self._clock()
        if self._forbidden_in_a_row >= FORBIDDEN_IN_A_ROW:
            self._halt(ConfigurationError(refused.reason, status=403, message=str(refused)))
            return outbox.postpone(outgoing, now, now, reason=CONFIGURATION, error=str(refused))
        if self._out_of_time(outgoing, now):
            return outbox.failed(outgoing, now, status=403, reason=GAVE_UP, error=str(refused))
        delay = self._retry.delay(outgoing.attempt, None)
        return outbox.retry_later(
            outgoing,
            now + timedelta(seconds=delay),
            now,
            status=403,
            reason=refused.reason,
            error=str(refused),
        )

    def _halt(self, error: ConfigurationError) -> None:
        """Stops claiming: every row would fail the same way until ICT fixes the set-up."""
        if self.configuration_error is not None:
            return
        self.configuration_error = str(error)
        self.halted.set()
        log.error(
            "notifications stopped by a configuration error: %s. Nothing more is sent until it "
            "is fixed and the bot restarted; the notifications wait in the outbox.",
            error,
        )

    def _observe(self, outgoing: Outgoing, status: int | None, reason: str) -> None:
        """Tells the breaker how the connector answered; says so when sending pauses or resumes."""
        now = self._clock()
        if is_outage(status, reason):
            if self._breaker.failed(outgoing.notification_id, now):
                self.stats.paused += 1
                paused_until = self._breaker.open_until
                assert paused_until is not None
                log.warning(
                    "the Bot Connector keeps failing (last: %s); sending paused for %.0f s, "
                    "then one notification tries again (nothing is lost meanwhile)",
                    status or reason,
                    (paused_until - now).total_seconds(),
                )
        elif self._breaker.succeeded(outgoing.notification_id):
            log.warning("the Bot Connector answers again; sending resumes")

    def _failure(
        self,
        outgoing: Outgoing,
        status: int | None,
        reason: str,
        retry_after: float | None,
        final: bool,
        error: BaseException,
    ) -> Settlement:
        now = self._clock()
        text = f"{reason}: {error}" if str(error) and str(error) != reason else reason
        if final or not is_retryable(status):
            return outbox.failed(outgoing, now, status=status, reason=reason, error=text)
        if self._out_of_time(outgoing, now):
            return outbox.failed(outgoing, now, status=status, reason=GAVE_UP, error=text)
        if retry_after is not None:
            self._rate.throttled(min(retry_after, self._retry.max_retry_after))
        delay = self._retry.delay(outgoing.attempt, retry_after)
        return outbox.retry_later(
            outgoing, now + timedelta(seconds=delay), now, status=status, reason=reason, error=text
        )

    def _out_of_time(self, outgoing: Outgoing, now: datetime) -> bool:
        """Retries end `give_up_after` the first failure, counting only working hours (a night,
        a weekend or a holiday waited through is no time spent trying): an outage of hours
        loses nothing."""
        since = outgoing.failing_since
        if since is None:
            return False
        spent = (
            now - since if self._quiet_hours is None else self._quiet_hours.working_time(since, now)
        )
        return spent >= self._give_up_after


async def _first(*waits: Awaitable[object] | float) -> None:
    """Returns when the first of some awaitables finishes, or after a number of seconds."""
    timeout = min((wait for wait in waits if isinstance(wait, float | int)), default=None)
    tasks = [asyncio.ensure_future(wait) for wait in waits if not isinstance(wait, float | int)]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
