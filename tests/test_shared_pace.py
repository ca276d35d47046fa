"""Teams' per-tenant rate shared by every dispatcher process through PostgreSQL.

Two engines with pools of their own stand for two processes; the slots they are given, in the
database's time, must keep the tenant's spacing together. (Whether the sends then reach Teams
within its limit is measured end to end by `benchmarks/shared_rate.py`.)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.tokens import NoTokenProvider
from bot.background import tenant_pace
from bot.backoff import RetryPolicy
from bot.notifications.rate_limit import RateLimiter
from bot.notifications.shared_pace import SPACING_MARGIN, SharedPace
from bot.settings import Settings
from tests.support.database import postgres_database, second_engine

pytestmark = pytest.mark.postgres
RATE = 50.0


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    async with postgres_database() as first, second_engine(first) as second:
        yield first, second


async def slots(pace: SharedPace, count: int) -> list[float]:
    return [(await pace.take_slot())[0] for _ in range(count)]


def most_in_any_second(starts: list[float]) -> int:
    ordered = sorted(starts)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_two_processes_share_one_rate_evenly_spaced(two_processes):
    first_engine, second_engine_ = two_processes
    mine, theirs = await asyncio.gather(
        slots(SharedPace(first_engine, RATE), 100), slots(SharedPace(second_engine_, RATE), 100)
    )
    starts = sorted(mine + theirs)
    assert len(set(starts)) == 200, "no slot is given twice"
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    interval = (1 / RATE) * (1 + SPACING_MARGIN)
    assert min(gaps) == pytest.approx(interval, abs=1e-5), "either process's slots keep spacing"
    assert most_in_any_second(starts) <= RATE
    assert starts[-1] - starts[0] == pytest.approx(199 * interval, abs=1e-3), "the tenant's rate"


async def test_a_send_waits_for_its_slot_right_before_its_request(two_processes):
    """The slot is taken and waited for at the wire, after the send's own reads."""
    pace = SharedPace(two_processes[0], RATE)
    connector = FakeBotConnector()
    async with TestServer(connector.app()) as server, ClientSession() as http:
        client = BotConnectorClient(http, NoTokenProvider(), policy=RetryPolicy(max_attempts=1))
        for _ in range(10):  # other sends took the next 0.2 s of the tenant's slots
            await pace.take_slot()
        await pace.acquire()
        asked = time.monotonic()
        url = str(server.make_url("")).rstrip("/")
        await client.send_to_conversation(url, "a:chat-1", {"type": "message"})
        waited = time.monotonic() - asked
    assert waited > 0.1, "the request waited for its slot"
    assert len(connector.activities) == 1


async def test_a_tenant_wide_throttle_holds_the_other_process_too(two_processes):
    first_engine, second_engine_ = two_processes
    throttled_here = SharedPace(first_engine, RATE, pause_after=3)
    assert [throttled_here.throttled(2.0) for _ in range(3)] == [False, False, True]
    await asyncio.gather(*throttled_here._holding)
    _, deadline = await SharedPace(second_engine_, RATE).take_slot()
    assert deadline - time.monotonic() > 1.8, "the other process waits out the pause"
    assert throttled_here.pauses == 1


async def test_postgresql_shares_the_rate_and_sqlite_keeps_its_own(two_processes, sqlite_engine):
    settings = Settings(_env_file=None, notify_rate_per_second=40)
    shared = tenant_pace(settings, two_processes[0])
    assert isinstance(shared, SharedPace) and shared.rate == 40
    assert isinstance(tenant_pace(settings, sqlite_engine), RateLimiter)
    assert isinstance(tenant_pace(settings, None), RateLimiter)
