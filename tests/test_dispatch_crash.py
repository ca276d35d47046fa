"""`phonebot dispatch` killed with SIGKILL mid-campaign, then started again: nobody is missed.

The dispatcher runs as its own process, as in production; the fake Bot Connector runs in the
test and counts what reached each conversation. Duplicates are allowed only for rows in flight
at the kill, which the dispatcher bounds by its concurrency.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest

from bot.adapters.botframework.fake_connector import FakeBotConnector
from tests.support.campaign_run import (
    fake_teams,
    notification_states,
    process_environment,
    seed_campaign,
    start_bot,
    until,
    until_all_delivered,
)

RECIPIENTS = 300
CONCURRENCY = 10
TENANT = "tenant-pori"


@pytest.fixture
async def connector() -> AsyncIterator[tuple[FakeBotConnector, str]]:
    async with fake_teams(latency=0.02) as running:
        yield running


async def start_dispatcher(database_url: str) -> asyncio.subprocess.Process:
    environment = process_environment(
        database_url,
        TENANT,
        NOTIFY_RATE_PER_SECOND="200",
        NOTIFY_CONCURRENCY=str(CONCURRENCY),
        NOTIFY_LEASE_SECONDS="5",
    )
    return await start_bot(environment, "dispatch")


async def test_a_killed_dispatcher_loses_nothing_and_repeats_at_most_its_in_flight(
    tmp_path, connector
):
    fake, service_url = connector
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    await seed_campaign(database_url, service_url, count=RECIPIENTS, tenant=TENANT)

    first = await start_dispatcher(database_url)
    await until(lambda: len(fake.activities) >= RECIPIENTS // 3)
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    reached_before_restart = len(fake.deliveries_by_recipient())
    assert reached_before_restart < RECIPIENTS

    second = await start_dispatcher(database_url)
    await until_all_delivered(database_url, RECIPIENTS)
    second.send_signal(signal.SIGTERM)
    assert await second.wait() == 0

    assert len(fake.deliveries_by_recipient()) == RECIPIENTS
    duplicates = sum(count - 1 for count in fake.deliveries_by_recipient().values())
    assert duplicates <= CONCURRENCY
    assert await notification_states(database_url) == {"delivered": RECIPIENTS}
