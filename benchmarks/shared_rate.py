"""Several `phonebot dispatch` processes sending one unit's turn through one tenant's limit.

Each run gets a PostgreSQL database of its own with N recipients (each with a chat), starts the
given number of real `phonebot dispatch` processes with `NOTIFY_RATE_PER_SECOND` at the tenant's
rate, and ends when every row is delivered. The fake Bot Connector runs as a process of its own
with Teams' limits: it answers 429 to any send above 50 in a sliding second, so its `throttled`
count is the number of times the processes together went over. The anchor, in the same run, is
one process alone. Prints JSON: per run the seconds (from the first delivery to the last, and in
all), the rate, 429s, duplicates, lost rows, and the shared run's ratio to the limit and to the
anchor.

    .venv/bin/python benchmarks/shared_rate.py [--recipients 6400] [--processes 3] [--rps 50]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--no-anchor]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from fanout import connector, fake_summary, seed, settled_counts
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import helsinki_today, system_clock
from bot.db import migrate
from bot.db.engine import create_engine
from bot.notifications.models import NotificationState

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=6400)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rps", type=float, default=50.0, help="the tenant's limit")
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--no-anchor", action="store_true", help="skip the one-process run")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="fake: answer latency")
    args = parser.parse_args()
    # What fanout's connector() reads: Teams' limits and no injected faults, so every 429 is ours.
    args.connector_url = None
    args.fail_429 = args.fail_5xx = args.timeouts = 0.0
    args.retry_after, args.server_errors, args.send_timeout, args.seed = 1, "503", 5.0, 1
    return args


@asynccontextmanager
async def own_database(base_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A migrated database made for this run, dropped after it."""
    name = f"bench_shared_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        yield url, engine
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def start_dispatchers(url: str, count: int, rps: float) -> list[asyncio.subprocess.Process]:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "MicrosoftAppId": "",
        "NOTIFY_WORKING_HOURS": "00:00-24:00",
        "NOTIFY_WORKING_DAYS": "mon-sun",
        "NOTIFY_PUBLIC_HOLIDAYS": "false",
        "NOTIFY_EXTRA_HOLIDAYS": "",
        "NOTIFY_RATE_PER_SECOND": str(rps),
        "NOTIFY_CONCURRENCY": str(CONCURRENCY),
        "PLANNER_INTERVAL_SECONDS": "300",  # the first planning is at start
        "DIRECTORY_SYNC_INTERVAL_MINUTES": "0",
        "LOG_LEVEL": "WARNING",
    }
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "dispatch",
            "--worker-id",
            f"bench-{number}",
            cwd=ROOT,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,  # their "stopped" lines are not this JSON
        )
        for number in range(count)
    ]


async def one_run(args: argparse.Namespace, service_url: str, processes: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        await http.post(f"{service_url}/_fake/reset")
    async with own_database(args.database_url) as (url, engine):
        await seed(engine, args.recipients, service_url, helsinki_today(system_clock()))
        started = time.perf_counter()
        dispatchers = await start_dispatchers(url, processes, args.rps)
        first_delivery = None
        while True:
            counts = await settled_counts(engine)
            delivered = counts.get(NotificationState.DELIVERED, 0)
            if delivered and first_delivery is None:
                first_delivery = time.perf_counter()
            unsettled = counts.get(NotificationState.PENDING, 0) + counts.get(
                NotificationState.SENDING, 0
            )
            if delivered and not unsettled:
                break
            await asyncio.sleep(0.25)
        finished = time.perf_counter()
        for process in dispatchers:
            process.send_signal(signal.SIGTERM)
        exits = [await process.wait() for process in dispatchers]
        summary = await fake_summary(service_url) or {}
    sending = finished - (first_delivery or started)
    duplicates = sum(count - 1 for count in summary.get("duplicates", {}).values())
    return {
        "processes": processes,
        "delivered": delivered,
        "failed": counts.get(NotificationState.FAILED, 0),
        "lost": args.recipients - delivered - counts.get(NotificationState.FAILED, 0),
        "duplicates": duplicates,
        "throttled_429": summary.get("throttled"),
        "seconds_sending": round(sending, 2),
        "seconds_in_all": round(finished - started, 2),
        "messages_per_second": round(delivered / sending, 2),
        "exit_codes": exits,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    limit_seconds = args.recipients / args.rps
    result: dict[str, Any] = {
        "load": f"{args.recipients} notifications, one per recipient, through a fake Bot "
        f"Connector with Teams' limits ({args.rps:g}/s per tenant, per-conversation windows), "
        f"answer latency {args.latency_ms:g} ms; PostgreSQL; each process NOTIFY_RATE_PER_SECOND="
        f"{args.rps:g}, NOTIFY_CONCURRENCY={CONCURRENCY}",
        "limit_seconds": limit_seconds,
    }
    with connector(args) as service_url:
        if not args.no_anchor:
            result["anchor_one_process"] = await one_run(args, service_url, 1)
        shared = await one_run(args, service_url, args.processes)
        result[f"shared_{args.processes}_processes"] = shared
    result["ratio_to_limit"] = round(shared["seconds_sending"] / limit_seconds, 3)
    if "anchor_one_process" in result:
        anchor = result["anchor_one_process"]["seconds_sending"]
        result["ratio_to_anchor"] = round(shared["seconds_sending"] / anchor, 3)
    return result


def main() -> None:
    result = asyncio.run(run(parse_args()))
    json.dump(result, sys.stdout, indent=2, default=str)
    print()


if __name__ == "__main__":
    main()
