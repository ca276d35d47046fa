"""A real Prometheus (Debian's `prometheus`) scrapes a real `phonebot serve` (people chatting) and
a `phonebot dispatch` (a campaign going out) at once: the program's series exist in Prometheus
and move.

CI installs Prometheus (scripts/lib/setup.sh); elsewhere the test is skipped without it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.support.activities import TeamsUser, message
from tests.support.campaign_run import (
    fake_teams,
    free_port,
    process_environment,
    seed_campaign,
    start_bot,
    until_all_delivered,
)

RECIPIENTS = 150
PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def prometheus_binary() -> str:
    if PROMETHEUS is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Debian's prometheus (scripts/lib/setup.sh setup_prometheus)")
        pytest.skip("Debian's prometheus is not installed (apt-get install prometheus)")
    return PROMETHEUS


@asynccontextmanager
async def prometheus_scraping(
    binary: str, targets: list[str], directory: Path
) -> AsyncIterator[str]:
    """Prometheus scraping the targets' /metrics every second; yields its HTTP API's address."""
    port = free_port()
    config = directory / "prometheus.yml"
    listed = ", ".join(f"'{target}'" for target in targets)
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: puhelinbotti\n    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: [{listed}]\n"
    )
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={directory / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http, asyncio.timeout(60):
            while True:
                try:
                    async with http.get(f"{api}/-/ready") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        yield api
    finally:
        process.terminate()
        await process.wait()


async def query(http: aiohttp.ClientSession, api: str, promql: str) -> dict[str, float]:
    """An instant query's samples, keyed by their labels (without __name__)."""
    async with http.get(f"{api}/api/v1/query", params={"query": promql}) as response:
        body = await response.json()
    assert body["status"] == "success", body
    return {
        ",".join(f"{k}={v}" for k, v in sorted(sample["metric"].items()) if k != "__name__"): float(
            sample["value"][1]
        )
        for sample in body["data"]["result"]
    }


async def total(http: aiohttp.ClientSession, api: str, promql: str) -> float:
    return sum((await query(http, api, promql)).values())


async def chat(endpoint: str, service_url: str, stop: asyncio.Event) -> int:
    """One person after another saying hello, until `stop`; returns how many turns were sent."""
    sent = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            activity = message(TeamsUser.new(), service_url, "moi")
            async with http.post(endpoint, json=activity) as response:
                assert response.status < 300
            sent += 1
            await asyncio.sleep(0.05)
    return sent


async def test_prometheus_scrapes_a_running_bot_and_its_series_move(tmp_path, prometheus_binary):
    async with fake_teams(latency=0.02) as (_, service_url):
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'scrape.sqlite3'}"
        await seed_campaign(database_url, service_url, count=RECIPIENTS, tenant="")
        port, serve_metrics, dispatch_metrics = free_port(), free_port(), free_port()
        environment = process_environment(
            database_url,
            "",
            ALLOW_UNAUTHENTICATED="true",
            PROMETHEUS_METRICS="true",
            METRICS_SAMPLE_SECONDS="1",
            NOTIFY_RATE_PER_SECOND="15",
            NOTIFY_CONCURRENCY="5",
        )
        # Chatting and sending in processes of their own, as production may run them.
        chatting = {**environment, "BACKGROUND_JOBS": "false", "METRICS_PORT": str(serve_metrics)}
        bot = await start_bot(chatting, "serve", "--port", str(port))
        sending = {**environment, "METRICS_PORT": str(dispatch_metrics)}
        sender = await start_bot(sending, "dispatch")
        stop = asyncio.Event()
        try:
            async with (
                prometheus_scraping(
                    prometheus_binary,
                    [f"127.0.0.1:{serve_metrics}", f"127.0.0.1:{dispatch_metrics}"],
                    tmp_path,
                ) as api,
                aiohttp.ClientSession() as http,
            ):
                async with asyncio.timeout(60):
                    while await total(http, api, 'up{job="puhelinbotti"}') != 2:  # noqa: ASYNC110
                        await asyncio.sleep(0.5)
                talkers = [
                    asyncio.create_task(
                        chat(f"http://127.0.0.1:{port}/api/messages", service_url, stop)
                    )
                    for _ in range(3)
                ]
                await asyncio.sleep(4)
                first = await snapshot(http, api)
                await asyncio.sleep(4)
                second = await snapshot(http, api)
                stop.set()
                turns_sent = sum(await asyncio.gather(*talkers))
                await until_all_delivered(database_url, RECIPIENTS, seconds=60)
                await asyncio.sleep(3)
                last = await snapshot(http, api)
        finally:
            for process in (bot, sender):
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(40):
                assert await bot.wait() == 0
                assert await sender.wait() == 0

    assert turns_sent > 0
    assert 0 < first["turns"] < second["turns"] <= last["turns"], (first, second, last)
    assert first["turn latency observations"] < second["turn latency observations"]
    assert 0 < first["messages requests"] < second["messages requests"]
    assert first["delivered"] < last["delivered"] == RECIPIENTS
    assert first["pending"] > last["pending"] == 0, "the outbox gauge follows the campaign"
    assert last["delivered gauge"] == RECIPIENTS
    assert first["loop lag observations"] < second["loop lag observations"]
    assert last["relay backlog"] == 0
    assert first["planning runs"] < last["planning runs"]


async def snapshot(http: aiohttp.ClientSession, api: str) -> dict[str, float]:
    """The series the test follows, as Prometheus has them now."""
    queries = {
        "turns": 'phonebot_turns_total{kind="message",outcome="ok"}',
        "turn latency observations": "phonebot_turn_duration_seconds_count",
        "messages requests": "http_server_request_duration_seconds_count"
        '{http_route="/api/messages"}',
        "delivered": 'phonebot_notifications_sends_total{outcome="delivered"}',
        # Every process samples the same database: a dashboard takes the max, not the sum.
        "pending": 'max(phonebot_outbox_depth{state="pending"})',
        "delivered gauge": 'max(phonebot_outbox_depth{state="delivered"})',
        "loop lag observations": "phonebot_event_loop_lag_seconds_count",
        "relay backlog": "max(phonebot_helpdesk_relay_backlog)",
        "planning runs": 'phonebot_jobs_runs_total{background_job="rollout planning",result="ok"}',
    }
    return {name: await total(http, api, promql) for name, promql in queries.items()}
