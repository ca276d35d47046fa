"""`phonebot serve` stopped with SIGTERM during a burst of turns and a campaign, then started
again: no turn is cut, every notification reaches its person once.

The bot runs as its own process, as in production, with a campaign's lease far longer than the
test waits: a restart delivers the rest at once only if the stop gave its claimed rows back.
A turn that reached the bot either got its whole answer (and its reply went out) or a 503 it
can send again; one that never reached it (the listener had closed) left nothing behind. The
process logs as operators run it (`LOG_FORMAT=json`): every line must be a JSON object, each
request's with its correlation id.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest

from bot.adapters.botframework.fake_connector import FakeBotConnector
from tests.support.activities import TENANT_ID, TeamsUser, message
from tests.support.campaign_run import (
    CAMPAIGN_CONVERSATION,
    fake_teams,
    free_port,
    notification_states,
    process_environment,
    seed_campaign,
    start_bot,
    until,
    until_all_delivered,
)

RECIPIENTS = 300
TALKERS = 12
GRACE_SECONDS = 1.5


@pytest.fixture
async def connector() -> AsyncIterator[tuple[FakeBotConnector, str]]:
    async with fake_teams(latency=0.03) as running:
        yield running


@dataclass
class Burst:
    """People writing to the bot without pause; each turn's outcome by its activity id."""

    endpoint: str
    service_url: str
    outcomes: dict[str, str] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def talk(self, keep_alive: bool) -> None:
        connector = aiohttp.TCPConnector(force_close=not keep_alive)
        async with aiohttp.ClientSession(connector=connector) as http:
            while not self.stop.is_set():
                activity = message(TeamsUser.new(), self.service_url, "moi")
                self.outcomes[activity["id"]] = await self._send(http, activity)

    async def _send(self, http: aiohttp.ClientSession, activity: dict[str, object]) -> str:
        try:
            async with http.post(self.endpoint, json=activity) as response:
                await response.read()
                if response.status < 300:
                    return "answered"
                return "refused" if response.status == 503 else f"status {response.status}"
        except aiohttp.ClientConnectorError:
            await asyncio.sleep(0.05)
            return "not connected"
        except aiohttp.ClientError:
            return "no answer"


async def readiness(http: aiohttp.ClientSession, base: str) -> tuple[int, str] | None:
    try:
        async with http.get(f"{base}/readyz") as response:
            return response.status, (await response.json())["status"]
    except aiohttp.ClientError:
        return None


async def until_ready(http: aiohttp.ClientSession, base: str) -> None:
    async with asyncio.timeout(60):
        while await readiness(http, base) != (200, "ready"):  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.1)


def replied_to(fake: FakeBotConnector) -> Counter[str]:
    return Counter(
        str(delivery.body.get("replyToId"))
        for delivery in fake.deliveries
        if not delivery.conversation_id.startswith(CAMPAIGN_CONVERSATION)
    )


async def test_sigterm_finishes_turns_gives_claims_back_and_a_restart_sends_each_once(
    tmp_path, connector
):
    fake, service_url = connector
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'stop.sqlite3'}"
    await seed_campaign(database_url, service_url, count=RECIPIENTS, tenant=TENANT_ID)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Authentication off (on loopback only) so the test can write unsigned turns; no tenant then.
    environment = process_environment(
        database_url,
        "",
        ALLOW_UNAUTHENTICATED="true",
        NOTIFY_RATE_PER_SECOND="40",
        NOTIFY_CONCURRENCY="10",
        NOTIFY_LEASE_SECONDS="600",
        SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
        SHUTDOWN_TIMEOUT_SECONDS="20",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    log: list[str] = []
    burst = Burst(f"{base}/api/messages", service_url)

    async with aiohttp.ClientSession() as http:
        bot = await start_bot(environment, "serve", "--port", str(port), log=log)
        await until_ready(http, base)
        talkers = [
            asyncio.create_task(burst.talk(keep_alive=number % 2 == 0)) for number in range(TALKERS)
        ]
        await until(lambda: len(fake.deliveries_by_recipient()) >= RECIPIENTS // 4)
        await until(lambda: list(burst.outcomes.values()).count("answered") >= 20)

        bot.send_signal(signal.SIGTERM)
        seen = [await readiness(http, base) for _ in itertools.repeat(None, 3)]
        assert (503, "stopping") in seen, "/readyz turns 503 first, while turns are still taken"
        async with asyncio.timeout(40):
            assert await bot.wait() == 0
        burst.stop.set()
        await asyncio.gather(*talkers)

        states = await notification_states(database_url)
        assert "sending" not in states, "the stop gave back every row it had claimed"
        assert 0 < states.get("delivered", 0) < RECIPIENTS

        outcomes = Counter(burst.outcomes.values())
        assert set(outcomes) <= {"answered", "refused", "not connected", "no answer"}, outcomes
        replies = replied_to(fake)
        answered = {key for key, outcome in burst.outcomes.items() if outcome == "answered"}
        assert answered <= set(replies), "every answered turn's reply went out"
        assert set(replies) <= answered, "no turn sent its reply and then lost its answer"

        again = await start_bot(environment, "serve", "--port", str(port))
        await until_all_delivered(database_url, RECIPIENTS, seconds=40)
        again.send_signal(signal.SIGTERM)
        async with asyncio.timeout(40):
            assert await again.wait() == 0

    logged = [json.loads(line) for line in log]  # every line a JSON object
    stops = [line["message"] for line in logged if line["logger"] == "bot.serving"]
    assert stops[-1] == "stopped" and any("new turns refused" in stop for stop in stops)
    requests = [line for line in logged if line["logger"] == "aiohttp.access"]
    assert len(requests) >= 20 and all(line["correlation_id"] != "-" for line in requests)

    campaign = {
        conversation: count
        for conversation, count in fake.deliveries_by_recipient().items()
        if conversation.startswith(CAMPAIGN_CONVERSATION)
    }
    assert len(campaign) == RECIPIENTS
    assert set(campaign.values()) == {1}, "a graceful stop sends nobody anything twice"
