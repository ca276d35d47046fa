"""What a bot process does beside the chat: plan rollout campaigns, send the outbox, sync people.

Every job is safe to run in several processes at once: planning is idempotent, the outbox is
claimed row by row, and a directory sync overtaken by another one changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.proactive import AppInstaller, ProactiveSender
from bot.adapters.botframework.tokens import AccessTokenProvider
from bot.announcements.receipts import plan_receipt_reminders
from bot.backoff import RetryPolicy
from bot.clock import Clock
from bot.deductions.service import plan_life_event_notices
from bot.delivery import TeamsDeliverer
from bot.dialogs.areas import UNASKED
from bot.dialogs.helpdesk.desk import Helpdesk
from bot.dialogs.helpdesk.relay import TicketRelay
from bot.directory.sync import DirectorySync
from bot.notifications import outbox
from bot.notifications.dispatcher import Dispatcher
from bot.notifications.quiet_hours import WorkingHours
from bot.notifications.rate_limit import RateLimiter, TenantPace
from bot.notifications.shared_pace import SharedPace
from bot.privacy.purge import Purge
from bot.rollout.campaigns import plan_rollout_campaigns
from bot.settings import Settings
from bot.telemetry.correlation import correlated
from bot.telemetry.providers import Telemetry
from bot.telemetry.spans import operation
from bot.tickets.desk import TicketDesk
from bot.tickets.ledger import RelayLedger

log = logging.getLogger(__name__)
# Retention runs once a day (and at start), in small batches beside the turns.
RETENTION_INTERVAL = 24 * 60 * 60.0


def working_hours(settings: Settings) -> WorkingHours:
    return WorkingHours.parse(
        settings.notify_working_hours,
        settings.notify_working_days,
        settings.notify_extra_holiday_dates,
        public_holidays=settings.notify_public_holidays,
    )


def tenant_pace(settings: Settings, engine: AsyncEngine | None) -> TenantPace:
    """Teams' per-tenant rate: one row in PostgreSQL for every process, else this process's."""
    if engine is not None and engine.dialect.name == "postgresql":
        return SharedPace(engine, settings.notify_rate_per_second)
    return RateLimiter(rate=settings.notify_rate_per_second)


def bot_account_id(settings: Settings) -> str:
    """Teams knows a bot as `28:<app id>`."""
    return f"28:{settings.app_id or 'puhelinbotti'}"


def build_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    tokens: AccessTokenProvider,
    *,
    clock: Clock,
    installer: AppInstaller | None,
    worker_id: str | None = None,
    engine: AsyncEngine | None = None,
    telemetry: Telemetry | None = None,
) -> Dispatcher:
    """One attempt per send on the wire; the outbox owns retries, so they survive restarts.

    On PostgreSQL (given its `engine`) every dispatcher process shares the tenant's rate.
    """
    connector = BotConnectorClient(
        http,
        tokens,
        policy=RetryPolicy(max_attempts=1),
        timeout_seconds=settings.send_timeout_seconds,
        instruments=telemetry.instruments if telemetry else None,
        tracer=telemetry.tracer if telemetry else None,
    )
    return Dispatcher(
        sessions,
        _deliverer(settings, sessions, connector, clock=clock, installer=installer),
        quiet_hours=working_hours(settings),
        worker_id=worker_id,
        rate=tenant_pace(settings, engine),
        clock=clock,
        give_up_after=timedelta(hours=settings.notify_give_up_after_hours),
        concurrency=settings.notify_concurrency,
        lease=settings.notify_lease_seconds,
        telemetry=telemetry,
    )


def _deliverer(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    connector: BotConnectorClient,
    *,
    clock: Clock,
    installer: AppInstaller | None,
) -> TeamsDeliverer:
    """What reaches an employee's own chat, opening it (and installing the app) if need be."""
    sender = ProactiveSender(
        connector,
        bot_id=bot_account_id(settings),
        teams_app_id=settings.teams_app_id,
        installer=installer,
    )
    return TeamsDeliverer(
        sessions,
        sender,
        default_language=settings.default_language,
        tenant_id=settings.tenant_id,
        service_url=settings.teams_service_url,
        unasked=UNASKED,
        clock=clock,
    )


def build_helpdesk(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    connector: BotConnectorClient,
    *,
    clock: Clock,
    installer: AppInstaller | None,
) -> Helpdesk:
    """Tickets' relay sends with retries on the wire: a helpdesk answer should not wait."""
    requesters = _deliverer(settings, sessions, connector, clock=clock, installer=installer)
    relay = TicketRelay(
        RelayLedger(sessions, clock),
        connector,
        requesters,
        bot_id=bot_account_id(settings),
        default_language=settings.default_language,
        working_hours=working_hours(settings),
        reraise_after=timedelta(hours=settings.helpdesk_reraise_after_hours),
    )
    return Helpdesk(
        TicketDesk(sessions, clock),
        connector,
        relay,
        admins=settings.ict_admins,
        default_language=settings.default_language,
    )


async def repeat(
    job: Callable[[], Awaitable[object]],
    interval: float,
    stop: asyncio.Event,
    what: str,
    telemetry: Telemetry | None = None,
) -> None:
    """Runs `job` now and then every `interval` seconds until `stop`; a failed run is logged and
    the next one comes as usual. Each run is counted by `what` and its result, and traced."""
    telemetry = telemetry or Telemetry.off()
    while not stop.is_set():
        try:
            with correlated(), operation(telemetry.tracer, f"job {what}"):
                await job()
            telemetry.instruments.job_run(what, "ok")
        except Exception:
            telemetry.instruments.job_run(what, "failed")
            log.exception("%s failed; trying again in %.0f s", what, interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class CampaignPlanner:
    """Rollout dates, life events and announcement reminders into campaigns; wakes the
    dispatcher when any were added."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        *,
        clock: Clock,
        reminder_days: int,
    ) -> None:
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._clock = clock
        self._reminder_days = reminder_days

    async def plan_once(self) -> int:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            planned = await plan_rollout_campaigns(
                session=session, now=now, reminder_days=self._reminder_days
            )
            life_events = await plan_life_event_notices(session=session, now=now)
            receipt_reminders = await plan_receipt_reminders(session=session, now=now)
            await outbox.sweep(session=session, now=now)
        added = sum(item.added for item in planned) + life_events + receipt_reminders
        if added:
            log.info("rollout planning added %d notifications", added)
            self._dispatcher.wake()
        return added


class BackgroundJobs:
    """Starts the jobs with the app and stops them cleanly with it."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        planner: CampaignPlanner,
        planner_interval: float,
        directory: DirectorySync | None,
        directory_interval: float,
        relay: TicketRelay | None = None,
        relay_interval: float = 60.0,
        retention: Purge | None = None,
        clock: Clock | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self._telemetry = telemetry or Telemetry.off()
        self.relay = relay
        self._relay_interval = relay_interval
        self.planner = planner
        self._planner_interval = planner_interval
        self._directory = directory
        self._directory_interval = directory_interval
        self.retention = retention
        self._clock = clock
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._spawn(
            repeat(
                self.planner.plan_once,
                self._planner_interval,
                self._stop,
                "rollout planning",
                self._telemetry,
            ),
            "planner",
        )
        self._spawn(self.dispatcher.run_forever(self._stop), "dispatcher")
        if self.relay is not None:
            self._spawn(
                repeat(
                    self.relay.run_once,
                    self._relay_interval,
                    self._stop,
                    "helpdesk relay",
                    self._telemetry,
                ),
                "helpdesk relay",
            )
        if self.retention is not None and self._clock is not None:
            self._spawn(
                repeat(
                    self.apply_retention,
                    RETENTION_INTERVAL,
                    self._stop,
                    "retention",
                    self._telemetry,
                ),
                "retention",
            )
        if self._directory is not None and self._directory_interval > 0:
            self._spawn(
                repeat(
                    self._directory.run,
                    self._directory_interval,
                    self._stop,
                    "directory sync",
                    self._telemetry,
                ),
                "directory sync",
            )

    async def apply_retention(self) -> None:
        """Today's run of the retention rules; the log tells counts, never whom."""
        if self.retention is None or self._clock is None:
            return
        report = await self.retention.run(self._clock())
        if report.total:
            log.info("retention removed %d rows: %s", report.total, report.counts)

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.relay is not None:
            await self.relay.idle()

    def _spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(job, name=name))
