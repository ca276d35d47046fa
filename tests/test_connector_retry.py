"""BotConnectorClient against the local fake Bot Connector: Teams' retry rules, auth, URLs.

`sleep` is injected and only records the delays, so no test waits for a backoff.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
from bot.adapters.botframework.fake_connector import FakeBotConnector, ScriptedFailure
from bot.adapters.botframework.tokens import (
    AccessTokenProvider,
    FixedTokenProvider,
    NoTokenProvider,
)
from bot.backoff import RetryPolicy, parse_retry_after
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest

CONVERSATION = "a:personal-1"
ACTIVITY = {"type": "message", "text": "hei"}


@dataclass
class RecordingSleep:
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class Connector:
    """The fake Bot Connector on a local port, plus what reached it on the wire."""

    fake: FakeBotConnector
    service_url: str
    http: aiohttp.ClientSession
    raw_paths: list[str] = field(default_factory=list)
    hang_next: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    sleep: RecordingSleep = field(default_factory=RecordingSleep)

    def client(
        self,
        tokens: AccessTokenProvider | None = None,
        *,
        policy: RetryPolicy | None = None,
        timeout_seconds: float = 5.0,
    ) -> BotConnectorClient:
        return BotConnectorClient(
            self.http,
            tokens or FixedTokenProvider("outgoing-token"),
            policy=policy,
            timeout_seconds=timeout_seconds,
            sleep=self.sleep,
        )

    async def send(self, client: BotConnectorClient | None = None) -> dict[str, Any]:
        client = client or self.client()
        return await client.send_to_conversation(self.service_url, CONVERSATION, ACTIVITY)


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    fake = FakeBotConnector()
    app = fake.app()
    async with aiohttp.ClientSession() as http:
        state = Connector(fake, "", http)

        @web.middleware
        async def wire(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            state.raw_paths.append(request.raw_path)
            if state.hang_next:
                state.hang_next -= 1
                await state.release.wait()
            return await handler(request)

        app.middlewares.append(wire)
        async with TestServer(app) as server:
            state.service_url = str(server.make_url("")).rstrip("/")
            yield state
            state.release.set()


def closed_local_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# -- what is retried, and after how long ------------------------------------------------------


async def test_429_with_retry_after_is_retried_once_after_that_many_seconds(
    connector: Connector,
) -> None:
    connector.fake.fail_next(ScriptedFailure(429, "2"))

    result = await connector.send()

    assert result["id"]
    assert len(connector.fake.calls) == 2
    assert connector.sleep.delays == [2.0]


async def test_503_without_retry_after_backs_off_exponentially_with_jitter(
    connector: Connector,
) -> None:
    connector.fake.fail_next(*[ScriptedFailure(503)] * 4)
    policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=30.0)

    await connector.send(connector.client(policy=policy))

    ceilings = [0.5, 1.0, 2.0, 4.0]
    assert len(connector.sleep.delays) == 4
    for delay, ceiling in zip(connector.sleep.delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_backoff_is_jittered_and_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    random.seed(1)

    delays = [policy.delay(attempt=10) for _ in range(50)]

    assert all(1.5 <= delay <= 3.0 for delay in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize("status", [412, 429, 500, 502, 503, 504])
async def test_throttling_and_server_errors_are_retried(connector: Connector, status: int) -> None:
    connector.fake.fail_next(ScriptedFailure(status))

    await connector.send()

    assert len(connector.fake.calls) == 2
    assert len(connector.sleep.delays) == 1


@pytest.mark.parametrize("status", [403, 404])
async def test_blocked_or_gone_recipient_is_final_and_not_retried(
    connector: Connector, status: int
) -> None:
    connector.fake.fail_next(ScriptedFailure(status))

    with pytest.raises(ConnectorError) as raised:
        await connector.send()

    assert raised.value.status == status
    assert raised.value.is_final_for_recipient
    assert len(connector.fake.calls) == 1
    assert connector.sleep.delays == []


@pytest.mark.parametrize("status", [400, 401, 501])
async def test_other_errors_are_not_retried_and_not_final(
    connector: Connector, status: int
) -> None:
    connector.fake.fail_next(ScriptedFailure(status, "1"))

    with pytest.raises(ConnectorError) as raised:
        await connector.send()

    assert raised.value.status == status
    assert not raised.value.is_final_for_recipient
    assert len(connector.fake.calls) == 1
    assert connector.sleep.delays == []


async def test_attempts_stop_at_max_attempts_then_error(connector: Connector) -> None:
    connector.fake.fail_next(*[ScriptedFailure(503, "1")] * 10)

    with pytest.raises(ConnectorError) as raised:
        await connector.send(connector.client(policy=RetryPolicy(max_attempts=3)))

    assert raised.value.status == 503
    assert "scripted 503" in str(raised.value)
    assert len(connector.fake.calls) == 3
    assert connector.sleep.delays == [1.0, 1.0]


async def test_retry_after_as_http_date_is_counted_from_the_answers_own_date(
    connector: Connector,
) -> None:
    answered = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
    retry_at = format_datetime(answered + timedelta(seconds=10), usegmt=True)
    connector.fake.fail_next(
        ScriptedFailure(429, retry_at, date=format_datetime(answered, usegmt=True))
    )

    await connector.send()

    assert connector.sleep.delays == [10.0]


async def test_retry_after_longer_than_max_delay_is_capped(connector: Connector) -> None:
    connector.fake.fail_next(ScriptedFailure(429, "120"))

    await connector.send(connector.client(policy=RetryPolicy(max_delay=30.0)))

    assert connector.sleep.delays == [30.0]


async def test_connection_refused_is_retried_then_error_without_status(
    connector: Connector,
) -> None:
    client = connector.client(policy=RetryPolicy(max_attempts=3))

    with pytest.raises(ConnectorError) as raised:
        await client.send_to_conversation(closed_local_url(), CONVERSATION, ACTIVITY)

    assert raised.value.status is None
    assert not raised.value.is_final_for_recipient
    assert len(connector.sleep.delays) == 2


async def test_timeout_is_retried(connector: Connector) -> None:
    connector.hang_next = 1

    result = await connector.send(connector.client(timeout_seconds=0.2))

    assert result["id"]
    assert len(connector.raw_paths) == 2
    assert len(connector.sleep.delays) == 1


# -- what goes on the wire --------------------------------------------------------------------


async def test_authorization_header_carries_the_provider_token(connector: Connector) -> None:
    await connector.send(connector.client(FixedTokenProvider("secret-token")))

    assert connector.fake.calls[0].authorization == "Bearer secret-token"


async def test_no_authorization_header_without_a_token(connector: Connector) -> None:
    await connector.send(connector.client(NoTokenProvider()))

    assert connector.fake.calls[0].authorization is None


async def test_retries_carry_the_token_too(connector: Connector) -> None:
    connector.fake.fail_next(ScriptedFailure(429, "0"))

    await connector.send(connector.client(FixedTokenProvider("secret-token")))

    assert [call.authorization for call in connector.fake.calls] == ["Bearer secret-token"] * 2


async def test_teams_thread_conversation_id_is_escaped_in_the_path(connector: Connector) -> None:
    conversation = "a:1abc;messageid=2@thread.tacv2"
    client = connector.client()

    await client.reply_to_activity(connector.service_url, conversation, "1:2", ACTIVITY)

    assert connector.raw_paths == [
        "/v3/conversations/a%3A1abc%3Bmessageid%3D2%40thread.tacv2/activities/1%3A2"
    ]
    assert connector.fake.calls[0].path == f"/v3/conversations/{conversation}/activities/1:2"


async def test_slash_and_query_characters_in_ids_stay_inside_their_segment(
    connector: Connector,
) -> None:
    client = connector.client()

    await client.update_activity(connector.service_url, "19:a/b?c#d", "x y", ACTIVITY)

    assert connector.raw_paths == ["/v3/conversations/19%3Aa%2Fb%3Fc%23d/activities/x%20y"]
    assert connector.fake.calls[0].method == "PUT"


async def test_service_url_path_prefix_is_kept(connector: Connector) -> None:
    client = connector.client()

    with pytest.raises(ConnectorError) as raised:
        await client.send_to_conversation(f"{connector.service_url}/emea/", "c", ACTIVITY)

    assert raised.value.status == 404
    assert connector.raw_paths == ["/emea/v3/conversations/c/activities"]


# -- parse_retry_after ------------------------------------------------------------------------

SENT = "Thu, 26 Nov 2026 10:00:00 GMT"  # the answer's Date header


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("Thu, 26 Nov 2026 10:00:30 GMT", 30.0),
        ("Thu, 26 Nov 2026 09:59:00 GMT", 0.0),
        ("Thu, 26 Nov 2026 12:00:30 +0200", 30.0),
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert parse_retry_after(value, sent=SENT) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "Thu, 99 Foo 2026"])
def test_parse_retry_after_ignores_absent_or_unreadable_values(value: str | None) -> None:
    assert parse_retry_after(value, sent=SENT) is None


@pytest.mark.parametrize("sent", [None, "", "yesterday"])
def test_an_http_date_without_a_readable_answer_date_is_not_guessed(sent: str | None) -> None:
    assert parse_retry_after("Thu, 26 Nov 2026 10:00:30 GMT", sent=sent) is None
    assert parse_retry_after("30", sent=sent) == 30.0


# -- through the running bot ------------------------------------------------------------------


async def test_throttled_reply_is_retried_and_the_user_still_gets_it(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot.connector.fail_next(ScriptedFailure(429, "0"))
    user = TeamsUser.new()

    await bot.say(user, "hei")

    throttled, *delivered = bot.connector.calls
    assert delivered, "the user got nothing"
    assert (delivered[0].path, delivered[0].body) == (throttled.path, throttled.body)
    assert delivered[0].body["type"] == "message"
    assert "retry 1" in caplog.text
    assert user.aad_object_id not in caplog.text, "the retry's log names the chat"
