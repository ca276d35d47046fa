"""`phonebot dispatch` killed with SIGKILL mid-campaign, then started again: nobody is missed.

The dispatcher runs as its own process, as in production; the fake Bot Connector runs in the
test and counts what reached each conversation. Duplicates are allowed only for rows in flight
at the kill, which the dispatcher bounds by its concurrency.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, insert, select

from bot.adapters.botframework.fake_connector import FakeBotConnector, Faults
from bot.conversations.models import ConversationReferenceRecord
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.directory.models import Employee, Unit
from bot.notifications.models import Notification
from bot.rollout.service import schedule_wave

RECIPIENTS = 300
CONCURRENCY = 10
TENANT = "tenant-pori"
ROOT = Path(__file__).resolve().parent.parent
WINDOW_OPENS, WINDOW_CLOSES = date(2000, 1, 1), date(2099, 12, 31)


@pytest.fixture
async def connector() -> AsyncIterator[tuple[FakeBotConnector, str]]:
    fake = FakeBotConnector(faults=Faults(latency=0.02))
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


async def seed(database_url: str, service_url: str) -> None:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    people = [f"00000000-0000-4000-a000-{number:012d}" for number in range(RECIPIENTS)]
    async with create_session_factory(engine)() as session, session.begin():
        session.add(Unit(code="KAIKKI", name_fi="Kaikki", name_en="Everyone"))
        await session.flush()
        await session.execute(
            insert(Employee), [{"aad_object_id": aad, "unit_code": "KAIKKI"} for aad in people]
        )
        await session.execute(
            insert(ConversationReferenceRecord),
            [
                {
                    "conversation_id": f"a:chat-{aad}",
                    "channel_id": "msteams",
                    "service_url": service_url,
                    "tenant_id": TENANT,
                    "aad_object_id": aad,
                    "reference": {},
                }
                for aad in people
            ],
        )
        await schedule_wave(
            session=session,
            name="Kaikki kerralla",
            # The dispatcher runs on the machine's clock: a window open whatever today is.
            opens_on=WINDOW_OPENS,
            closes_on=WINDOW_CLOSES,
            unit_codes=["KAIKKI"],
        )
    await engine.dispose()


async def start_dispatcher(database_url: str) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MicrosoftAppId": "",
        "MicrosoftAppTenantId": TENANT,
        "NOTIFY_WORKING_HOURS": "00:00-24:00",
        "NOTIFY_WORKING_DAYS": "mon-sun",
        "NOTIFY_PUBLIC_HOLIDAYS": "false",
        "NOTIFY_EXTRA_HOLIDAYS": "",
        "NOTIFY_RATE_PER_SECOND": "200",
        "NOTIFY_CONCURRENCY": str(CONCURRENCY),
        "NOTIFY_LEASE_SECONDS": "5",
        "PLANNER_INTERVAL_SECONDS": "1",
        "DIRECTORY_SYNC_INTERVAL_MINUTES": "0",
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "dispatch", cwd=ROOT, env=environment
    )


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while not condition():  # noqa: ASYNC110 (the fake has no event to wait on)
            await asyncio.sleep(0.05)


async def notification_states(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        states = dict(
            (
                await session.execute(
                    select(Notification.state, func.count()).group_by(Notification.state)
                )
            ).all()
        )
    await engine.dispose()
    return states


async def until_all_delivered(database_url: str) -> dict[str, int]:
    """Rows the killed process had in flight come back only when their lease runs out."""
    async with asyncio.timeout(60):
        while True:
            states = await notification_states(database_url)
            if states == {"delivered": RECIPIENTS}:
                return states
            await asyncio.sleep(0.2)


async def test_a_killed_dispatcher_loses_nothing_and_repeats_at_most_its_in_flight(
    tmp_path, connector
):
    fake, service_url = connector
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    await seed(database_url, service_url)

    first = await start_dispatcher(database_url)
    await until(lambda: len(fake.activities) >= RECIPIENTS // 3)
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    reached_before_restart = len(fake.deliveries_by_recipient())
    assert reached_before_restart < RECIPIENTS

    second = await start_dispatcher(database_url)
    await until_all_delivered(database_url)
    second.send_signal(signal.SIGTERM)
    assert await second.wait() == 0

    assert len(fake.deliveries_by_recipient()) == RECIPIENTS
    duplicates = sum(count - 1 for count in fake.deliveries_by_recipient().values())
    assert duplicates <= CONCURRENCY
    assert await notification_states(database_url) == {"delivered": RECIPIENTS}
