"""`phonebot serve` as its own process exports through the real exporters to a local stand-in:
OTLP/HTTP (protobuf) to a collector, and Azure Monitor's exporters to an Application Insights
ingestion endpoint. A turn arrives as one trace (HTTP in, the dialog, SQL, the Bot Connector
call), the program's metrics arrive by name, and nothing names the person."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.telemetry.fake_collector import FakeCollector
from tests.support.activities import TeamsUser, message
from tests.support.campaign_run import (
    fake_teams,
    free_port,
    process_environment,
    seed_campaign,
    start_bot,
)

SERVER, CLIENT = 2, 3  # OTLP's span kinds
PERSON = TeamsUser("7a1f0c52-3b9e-4d6a-8c21-5e0f9b3d7a44", "Kerttu Koivisto")


@asynccontextmanager
async def collector() -> AsyncIterator[tuple[FakeCollector, str]]:
    fake = FakeCollector()
    server = TestServer(fake.app())
    await server.start_server(access_log=None)
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def serving(
    extra: dict[str, str], tmp_path: object, campaign: int = 0
) -> AsyncIterator[tuple[str, str]]:
    """The bot as its own process (SQLite, auth off on loopback), with a campaign to `campaign`
    people if asked; yields its URL and the fake Bot Connector's. Stopped with SIGTERM, which
    flushes what the exporters still hold."""
    async with fake_teams(latency=0.0) as (_, service_url):
        port = free_port()
        database_url = f"sqlite+aiosqlite:///{tmp_path}/export.sqlite3"
        if campaign:
            await seed_campaign(database_url, service_url, count=campaign, tenant="")
        environment = process_environment(
            database_url,
            "",
            ALLOW_UNAUTHENTICATED="true",
            LOG_LEVEL="INFO",
            OTEL_EXPERIMENTAL_RESOURCE_DETECTORS="otel",  # no Azure metadata service here
            **extra,
        )
        upgrade = await start_bot(environment, "db", "upgrade")
        assert await upgrade.wait() == 0
        bot = await start_bot(environment, "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http, asyncio.timeout(60):
                while True:
                    try:
                        async with http.get(f"{base}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.2)
            yield base, service_url
        finally:
            bot.send_signal(signal.SIGTERM)
            async with asyncio.timeout(40):
                assert await bot.wait() == 0


async def chat(base: str, service_url: str, *texts: str) -> None:
    async with aiohttp.ClientSession() as http:
        for text in texts:
            activity = message(PERSON, service_url, text)
            async with http.post(f"{base}/api/messages", json=activity) as response:
                assert response.status < 300


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (another process sends)
            await asyncio.sleep(0.1)


async def test_otlp_gets_each_turn_as_one_trace_and_the_programs_metrics(tmp_path):
    async with (
        collector() as (received, endpoint),
        serving(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "METRICS_EXPORT_SECONDS": "1",
                "TRACE_SAMPLE_RATIO": "1",
            },
            tmp_path,
            campaign=3,
        ) as (base, service_url),
    ):
        await chat(base, service_url, "hei", "valikko")
        await until(lambda: sum(s.name == "turn message" for s in received.spans) == 2)
        await until(lambda: sum(s.name == "notification send" for s in received.spans) == 3)
        await until(lambda: "phonebot.notifications.sends" in received.metric_names)

    turns = [span for span in received.spans if span.name == "turn message"]
    trace = [span for span in received.spans if span.trace_id == turns[-1].trace_id]
    by_id = {span.span_id: span for span in trace}
    (http_in,) = [span for span in trace if span.kind == SERVER]
    assert http_in.name == "POST /api/messages"
    assert by_id[turns[-1].parent_span_id] is http_in
    assert any("db.statement" in span.attributes for span in trace), "SQL in the same trace"
    calls = [
        span for span in trace if span.kind == CLIENT and "db.statement" not in span.attributes
    ]
    assert calls, "the reply to the Bot Connector in the same trace"
    assert {span.service for span in received.spans} == {"puhelinbotti"}
    sends = [span for span in received.spans if span.name == "notification send"]
    posts = [span for span in received.spans if span.name == "Bot Connector POST"]
    assert {span.span_id for span in sends} <= {span.parent_span_id for span in posts}
    planning = [span for span in received.spans if span.name == "job rollout planning"]
    assert planning, "background runs are traced too"
    assert {
        "phonebot.turns",
        "phonebot.turn.duration",
        "http.server.request.duration",
        "phonebot.event_loop.lag",
        "phonebot.outbox.depth",
        "phonebot.jobs.runs",
    } <= set(received.metric_names)
    attributes = json.dumps([span.attributes for span in received.spans], ensure_ascii=False)
    assert PERSON.name not in attributes and PERSON.aad_object_id not in attributes


async def test_azure_monitor_gets_requests_dependencies_metrics_and_log_lines(tmp_path):
    async with collector() as (received, endpoint):
        connection = (
            "InstrumentationKey=00000000-0000-4000-8000-000000000000;"
            f"IngestionEndpoint={endpoint}/;LiveEndpoint={endpoint}/"
        )
        async with serving(
            {
                "APPLICATIONINSIGHTS_CONNECTION_STRING": connection,
                "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "TRACE_SAMPLE_RATIO": "1",
            },
            tmp_path,
        ) as (base, service_url):
            await chat(base, service_url, "hei", "valikko")

            def arrived() -> bool:
                types = received.envelope_types()
                return all(
                    any(name.endswith(kind) for name in types)
                    for kind in ("Request", "RemoteDependency", "Metric", "Message")
                )

            await until(arrived)

    requests = [e for e in received.envelopes if str(e.get("name", "")).endswith("Request")]
    assert any("/api/messages" in json.dumps(envelope) for envelope in requests)
    metrics = json.dumps([e for e in received.envelopes if str(e["name"]).endswith("Metric")])
    assert "phonebot.turns" in metrics
    everything = json.dumps(received.envelopes, ensure_ascii=False)
    assert PERSON.name not in everything and PERSON.aad_object_id not in everything


TOKEN = "a-bearer-token-long-enough-to-use"


@pytest.mark.parametrize("token", ["", TOKEN])
async def test_metrics_are_for_this_machine_or_the_token(tmp_path, token):
    """The metrics listener answers a scraper on this machine; the bot's own port, which a
    proxy may expose, has the page only with a token set, and answers only to it."""
    listener = free_port()
    extra = {"PROMETHEUS_METRICS": "true", "METRICS_PORT": str(listener)}
    if token:
        extra["PROMETHEUS_METRICS_TOKEN"] = token
    async with serving(extra, tmp_path) as (base, _), aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{listener}/metrics") as response:
            assert response.status == 200
            assert "phonebot_outbox_depth" in await response.text()
        async with http.get(f"{base}/metrics") as response:
            assert response.status == (403 if token else 404)
        if token:
            shown = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{base}/metrics", headers=shown) as response:
                assert response.status == 200
            wrong = {"Authorization": f"Bearer {token[:-1]}x"}
            async with http.get(f"{base}/metrics", headers=wrong) as response:
                assert response.status == 403


def own_address() -> str | None:
    """This machine's first address on a network (from iproute2), if it has one."""
    try:
        shown = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in shown.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return None


async def test_a_scraper_elsewhere_needs_the_token_at_the_listener(tmp_path):
    address = own_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    listener = free_port()
    extra = {
        "PROMETHEUS_METRICS": "true",
        "METRICS_HOST": "0.0.0.0",
        "METRICS_PORT": str(listener),
        "PROMETHEUS_METRICS_TOKEN": TOKEN,
    }
    async with serving(extra, tmp_path):
        url = f"http://{address}:{listener}/metrics"
        assert await status_from_another_process(url) == 403, "not this machine's loopback"
        assert await status_from_another_process(url, TOKEN) == 200


async def status_from_another_process(url: str, token: str = "") -> int:
    """The status a GET gets, asked by a process of its own: this suite's guard lets tests
    reach only loopback addresses, and this request must come from the machine's network one."""
    script = (
        "import sys, urllib.error, urllib.request\n"
        "request = urllib.request.Request(sys.argv[1])\n"
        "if sys.argv[2]: request.add_header('Authorization', 'Bearer ' + sys.argv[2])\n"
        "try: print(urllib.request.urlopen(request, timeout=10).status)\n"
        "except urllib.error.HTTPError as error: print(error.code)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, url, token, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    return int(output.decode().strip())
