"""The fake Bot Connector behaves like Teams: limits, installs, blocked and gone conversations,
injected failures; and it runs standalone for the benchmark and the demo.

Time is a fake monotonic clock; the client's backoff sleep advances it, so nothing waits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
from bot.adapters.botframework.fake_connector import (
    FakeBotConnector,
    Faults,
    Limits,
    RateLimiter,
    ScriptedFailure,
)
from bot.adapters.botframework.tokens import FixedTokenProvider
from bot.backoff import RetryPolicy

CONVERSATION = "a:personal-1"
ACTIVITY = {"type": "message", "text": "hei"}
AAD_ID = "00000000-0000-0000-0000-0000000000a1"
TENANT = "tenant-1"
ROOT = Path(__file__).resolve().parents[1]


def conversation_parameters(aad_id: str = AAD_ID, **extra: Any) -> dict[str, Any]:
    return {
        "isGroup": False,
        "bot": {"id": "28:bot"},
        "members": [{"id": aad_id}],
        "tenantId": TENANT,
        "channelData": {"tenant": {"id": TENANT}},
        **extra,
    }


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Answer:
    status: int
    retry_after: str | None
    body: Any


@dataclass
class Harness:
    """A fake connector on a local port, its clock, and the backoff delays a client asked for."""

    fake: FakeBotConnector
    url: str
    http: aiohttp.ClientSession
    clock: FakeClock
    server: TestServer
    delays: list[float] = field(default_factory=list)
    on_sleep: Callable[[], None] | None = None

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Answer:
        async with self.http.post(f"{self.url}{path}", json=body) as response:
            return Answer(
                response.status, response.headers.get("Retry-After"), await response.json()
            )

    async def send(self, conversation: str = CONVERSATION) -> Answer:
        return await self.post(f"/v3/conversations/{conversation}/activities", ACTIVITY)

    def client(
        self, *, policy: RetryPolicy | None = None, timeout_seconds: float = 5.0
    ) -> BotConnectorClient:
        async def sleep(seconds: float) -> None:
            self.delays.append(seconds)
            self.clock.now += seconds
            if self.on_sleep is not None:
                self.on_sleep()

        return BotConnectorClient(
            self.http,
            FixedTokenProvider("token"),
            policy=policy,
            timeout_seconds=timeout_seconds,
            sleep=sleep,
        )


Start = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """Call with FakeBotConnector keyword arguments (its clock is the harness's fake clock)."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(**config: Any) -> Harness:
            clock = FakeClock()
            fake = FakeBotConnector(clock=clock, **config)
            server = await stack.enter_async_context(TestServer(fake.app()))
            return Harness(fake, str(server.make_url("")).rstrip("/"), http, clock, server)

        yield start


# -- Teams rate limits ------------------------------------------------------------------------


async def test_eighth_message_in_a_second_to_one_conversation_is_throttled(start: Start) -> None:
    harness = await start(limits=Limits())

    answers = [await harness.send() for _ in range(8)]

    assert [answer.status for answer in answers] == [200] * 7 + [429]
    assert answers[-1].retry_after == "1"
    assert answers[-1].body["error"]["code"] == "Throttled"
    assert len(harness.fake.activities) == 7
    assert harness.fake.throttled == 1
    assert len(harness.fake.calls) == 8


async def test_eight_per_two_seconds_holds_even_when_each_second_is_under_seven(
    start: Start,
) -> None:
    harness = await start(limits=Limits())
    for _ in range(7):
        assert (await harness.send()).status == 200
    harness.clock.now += 1.5

    eighth, ninth = await harness.send(), await harness.send()

    assert eighth.status == 200
    assert (ninth.status, ninth.retry_after) == (429, "1")


async def test_other_conversations_are_not_throttled_by_a_busy_one(start: Start) -> None:
    harness = await start(limits=Limits())
    for _ in range(8):
        await harness.send()

    assert (await harness.send("a:personal-2")).status == 200


async def test_fifty_first_request_in_a_second_across_the_tenant_is_throttled(
    start: Start,
) -> None:
    harness = await start(limits=Limits())

    answers = [await harness.send(f"a:personal-{n}") for n in range(51)]

    assert [answer.status for answer in answers] == [200] * 50 + [429]
    assert answers[-1].retry_after == "1"
    harness.clock.now += 1.0
    assert (await harness.send("a:personal-50")).status == 200
    assert harness.fake.deliveries_by_recipient()["a:personal-50"] == 1


async def test_tenant_rate_is_configurable_and_counts_conversation_creates(
    start: Start,
) -> None:
    harness = await start(limits=Limits(tenant_per_second=3))

    creates = [await harness.post("/v3/conversations", conversation_parameters()) for _ in range(3)]
    fourth = await harness.send()

    assert [answer.status for answer in creates] == [200] * 3
    assert fourth.status == 429


def test_sixty_per_thirty_seconds_answers_the_time_until_the_oldest_leaves() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(Limits(), clock)
    for n in range(60):
        clock.now = n * 0.25
        assert limiter.admit(CONVERSATION) == 0

    clock.now = 20.0

    assert limiter.admit(CONVERSATION) == pytest.approx(10.0)
    clock.now = 30.0
    assert limiter.admit(CONVERSATION) == 0


def test_eighteen_hundred_per_hour() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(Limits(), clock)
    for n in range(1800):
        clock.now = n * 2.0
        assert limiter.admit(CONVERSATION) == 0

    clock.now = 3599.0

    assert limiter.admit(CONVERSATION) == pytest.approx(1.0)
    clock.now = 3600.0
    assert limiter.admit(CONVERSATION) == 0


def test_a_refused_request_does_not_use_up_the_window() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(Limits(tenant_per_second=1), clock)
    assert limiter.admit(None) == 0
    for _ in range(5):
        assert limiter.admit(None) > 0

    clock.now = 1.0

    assert limiter.admit(None) == 0


async def test_client_retries_a_throttled_send_after_retry_after_and_it_is_delivered(
    start: Start,
) -> None:
    harness = await start(limits=Limits())
    client = harness.client()
    for _ in range(7):
        await client.send_to_conversation(harness.url, CONVERSATION, ACTIVITY)

    result = await client.send_to_conversation(harness.url, CONVERSATION, ACTIVITY)

    assert result["id"]
    assert harness.delays == [1.0]
    assert harness.fake.throttled == 1
    assert len(harness.fake.delivered_to(CONVERSATION)) == 8


# -- installs, blocked and gone conversations -------------------------------------------------


async def test_create_conversation_is_forbidden_until_the_app_is_installed(start: Start) -> None:
    harness = await start(installed=set())
    client = harness.client()

    with pytest.raises(ConnectorError) as raised:
        await client.create_conversation(harness.url, conversation_parameters())
    harness.fake.mark_installed(AAD_ID)
    created = await client.create_conversation(harness.url, conversation_parameters())
    again = await client.create_conversation(harness.url, conversation_parameters())

    assert raised.value.status == 403
    assert raised.value.is_final_for_recipient
    assert "not installed" in str(raised.value)
    assert created["id"] == again["id"] == f"a:1on1-{AAD_ID}"
    assert harness.fake.forbidden == 1
    await client.send_to_conversation(harness.url, created["id"], ACTIVITY)
    assert harness.fake.delivered_to(created["id"]) == [ACTIVITY]


async def test_install_can_be_reported_over_http(start: Start) -> None:
    harness = await start(installed=set())

    before = await harness.post("/v3/conversations", conversation_parameters())
    await harness.post(f"/_fake/installed/{AAD_ID}")
    after = await harness.post("/v3/conversations", conversation_parameters())

    assert (before.status, after.status) == (403, 200)


async def test_by_default_the_app_is_installed_for_everyone(start: Start) -> None:
    harness = await start()

    created = await harness.post("/v3/conversations", conversation_parameters("someone"))

    assert (created.status, created.body["id"]) == (200, "a:1on1-someone")


async def test_create_conversation_with_an_activity_delivers_it(start: Start) -> None:
    harness = await start()

    created = await harness.post(
        "/v3/conversations", conversation_parameters(activity={"type": "message", "text": "moi"})
    )

    assert created.body["activityId"]
    assert harness.fake.delivered_to(created.body["id"]) == [{"type": "message", "text": "moi"}]


async def test_a_user_who_blocked_the_bot_answers_403_by_aad_id_or_conversation(
    start: Start,
) -> None:
    harness = await start(blocked={AAD_ID, "a:blocked-by-id"})
    created = await harness.post("/v3/conversations", conversation_parameters())

    by_user = await harness.send(created.body["id"])
    by_conversation = await harness.send("a:blocked-by-id")

    assert created.status == 200
    assert by_user.status == by_conversation.status == 403
    assert by_user.body["error"]["code"] == "ConversationBlockedByUser"
    assert harness.fake.activities == []
    assert harness.fake.forbidden == 2


async def test_unknown_conversation_answers_404_and_is_final(start: Start) -> None:
    harness = await start(unknown_conversations={CONVERSATION})

    with pytest.raises(ConnectorError) as raised:
        await harness.client().send_to_conversation(harness.url, CONVERSATION, ACTIVITY)

    assert raised.value.status == 404
    assert raised.value.is_final_for_recipient
    assert (harness.fake.not_found, harness.fake.activities) == (1, [])


# -- injected failures ------------------------------------------------------------------------

FLAKY = Faults(rate_429=0.2, rate_5xx=0.1, retry_after=3, seed=7)


async def statuses(harness: Harness, count: int) -> list[int]:
    return [(await harness.send(f"a:personal-{n}")).status for n in range(count)]


async def test_injected_failures_are_reproducible_by_seed(start: Start) -> None:
    first, second = await start(faults=FLAKY), await start(faults=FLAKY)
    other = await start(faults=Faults(rate_429=0.2, rate_5xx=0.1, seed=8))

    run = await statuses(first, 200)

    assert run == await statuses(second, 200)
    assert run != await statuses(other, 200)
    counts = Counter(run)
    assert 20 <= counts[429] <= 60
    assert 5 <= sum(counts[status] for status in (500, 502, 503, 504)) <= 35
    assert len(first.fake.activities) == counts[200]
    assert first.fake.injected == Counter({str(s): n for s, n in counts.items() if s != 200})


async def test_reset_reseeds_the_dice(start: Start) -> None:
    harness = await start(faults=FLAKY)
    run = await statuses(harness, 50)

    await harness.post("/_fake/reset")

    assert await statuses(harness, 50) == run
    assert len(harness.fake.calls) == 50


async def test_injected_429_carries_the_configured_retry_after(start: Start) -> None:
    harness = await start(faults=Faults(rate_429=1.0, retry_after=3))

    answer = await harness.send()

    assert (answer.status, answer.retry_after) == (429, "3")


async def test_timed_out_send_is_not_delivered_by_default(start: Start) -> None:
    harness = await start(faults=Faults(rate_timeout=1.0, hang_seconds=3600))
    client = harness.client(policy=RetryPolicy(max_attempts=2), timeout_seconds=0.1)

    with pytest.raises(ConnectorError) as raised:
        await client.send_to_conversation(harness.url, CONVERSATION, ACTIVITY)

    assert raised.value.status is None
    assert harness.fake.injected["timeout"] == 2
    assert harness.fake.activities == []


async def test_timeout_delivers_makes_a_retried_send_a_duplicate(start: Start) -> None:
    harness = await start(faults=Faults(rate_timeout=1.0, hang_seconds=3600, timeout_delivers=True))

    def calm_down() -> None:
        harness.fake.faults = Faults()

    harness.on_sleep = calm_down
    client = harness.client(timeout_seconds=0.1)

    await client.send_to_conversation(harness.url, CONVERSATION, ACTIVITY)

    assert harness.delays and len(harness.fake.calls) == 2
    assert harness.fake.duplicates() == {CONVERSATION: 2}
    assert harness.fake.summary()["duplicate_deliveries"] == 1


async def test_a_hanging_request_is_answered_504_when_released(start: Start) -> None:
    harness = await start(faults=Faults(rate_timeout=1.0, hang_seconds=3600))
    sending = asyncio.create_task(harness.send())
    while harness.fake.hanging == 0:  # noqa: ASYNC110 (the fake has no event to wait on)
        await asyncio.sleep(0.01)

    harness.fake.release_hanging()
    answer = await sending

    assert answer.status == 504
    assert harness.fake.hanging == 0


async def test_stopping_the_server_answers_hanging_requests_instead_of_waiting(
    start: Start,
) -> None:
    harness = await start(faults=Faults(rate_timeout=1.0, hang_seconds=3600))
    sending = asyncio.create_task(harness.send())
    while harness.fake.hanging == 0:  # noqa: ASYNC110 (the fake has no event to wait on)
        await asyncio.sleep(0.01)

    await harness.server.close()

    assert (await sending).status == 504


async def test_latency_is_drawn_around_the_base_with_jitter(start: Start) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    harness = await start(faults=Faults(latency=0.02, jitter=0.005), sleep=sleep)

    await statuses(harness, 20)

    assert len(slept) == 20
    assert all(0.015 <= delay <= 0.025 for delay in slept)
    assert len(set(slept)) > 1


async def test_an_outage_answers_500_and_503_in_turn_until_it_ends(start: Start) -> None:
    harness = await start()
    harness.fake.go_down(600)

    statuses = [(await harness.send()).status for _ in range(3)]
    create = await harness.post("/v3/conversations", conversation_parameters())
    harness.clock.now += 600
    after = await harness.send()

    assert statuses == [500, 503, 500] and create.status == 503
    assert after.status == 200 and harness.fake.activities == [ACTIVITY]
    assert harness.fake.down == 4 and harness.fake.summary()["down"] == 4


# -- what is recorded -------------------------------------------------------------------------


async def test_failed_attempts_are_calls_but_not_activities(start: Start) -> None:
    harness = await start()
    harness.fake.fail_next(ScriptedFailure(503))

    await harness.send()
    await harness.send()

    assert len(harness.fake.calls) == 2
    assert harness.fake.activities == [ACTIVITY]
    assert harness.fake.scripted == 1


async def test_by_default_everything_is_delivered(start: Start) -> None:
    harness = await start()

    for conversation in ("a:1", "a:2", "a:1"):
        await harness.send(conversation)
    update = await harness.post("/v3/conversations/a:1/activities/x")

    assert update.status == 200
    assert harness.fake.deliveries_by_recipient() == Counter({"a:1": 3, "a:2": 1})
    assert harness.fake.duplicates() == {"a:1": 3}


async def test_summary_route_counts_everything(start: Start) -> None:
    harness = await start(
        limits=Limits(tenant_per_second=2), unknown_conversations={"a:gone"}, blocked={"a:no"}
    )
    await harness.send("a:gone")
    await harness.send("a:no")
    harness.clock.now += 1
    await harness.send("a:1")
    await harness.send("a:1")
    await harness.send("a:1")

    async with harness.http.get(f"{harness.url}/_fake/summary") as response:
        summary = await response.json()

    assert summary == {
        "received": 5,
        "delivered": 2,
        "throttled": 1,
        "injected": {},
        "scripted": 0,
        "down": 0,
        "forbidden": 1,
        "not_found": 1,
        "conversations": 1,
        "duplicate_conversations": 1,
        "duplicate_deliveries": 1,
        "duplicates": {"a:1": 2},
    }


# -- running beside another event loop, and standalone -----------------------------------------


async def test_running_in_thread_answers_while_the_callers_loop_is_blocked() -> None:
    fake = FakeBotConnector()

    with fake.running_in_thread() as url:
        request = urllib.request.Request(
            f"{url}/v3/conversations/{CONVERSATION}/activities",
            data=json.dumps(ACTIVITY).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: ASYNC210
            assert response.status == 200

    assert fake.activities == [ACTIVITY]


async def test_standalone_server_prints_its_summary_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot.adapters.botframework.fake_connector", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        banner = (await process.stderr.readline()).decode()
        url = banner.rsplit(" ", 1)[-1].strip()
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with http.post(f"{url}/v3/conversations/a:1/activities", json=ACTIVITY):
                    pass
            async with http.get(f"{url}/_fake/summary") as response:
                live = await response.json()
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    final = json.loads(out)
    assert live["delivered"] == final["delivered"] == 3
    assert final["duplicates"] == {"a:1": 3}
    assert process.returncode == 0


def test_the_command_line_chooses_which_server_errors_are_injected():
    from bot.adapters.botframework.fake_connector.__main__ import build, parse_args

    connector = build(
        parse_args(["--port", "0", "--fail-5xx", "0.1", "--server-errors", "502,504"])
    )
    assert connector.faults.server_errors == (502, 504)
    assert build(parse_args(["--port", "0"])).faults.server_errors == (500, 502, 503, 504)
