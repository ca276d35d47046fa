"""A unit's turn told to 6,400 people: the real planner, outbox, dispatcher and Teams deliverer.

Every recipient has a stored 1:1 conversation of its own whose service URL is the connector's, so
each send is `POST /v3/conversations/{id}/activities` without authentication, as Teams' Bot
Connector would get it. Without `--connector-url`, the fake Bot Connector runs as a process of its
own with Teams' limits (50/s per tenant, the per-conversation windows) and the faults asked
for. The dispatcher runs as `phonebot serve` would run it, at `--rps`, and the run ends when every
row is settled. Prints JSON: recipients, delivered, failed, duplicates, seconds, messages per
second, and seconds ÷ (recipients ÷ rps), the ratio to the limit's own time.

    .venv/bin/python benchmarks/fanout.py --recipients 6400 --rps 50 [--connector-url URL]
        [--database-url URL] [--fail-429 0.01] [--fail-5xx 0.01] [--timeouts 0] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.tokens import NoTokenProvider
from bot.background import CampaignPlanner, build_dispatcher
from bot.clock import helsinki_today, system_clock
from bot.conversations.models import ConversationReferenceRecord
from bot.db.engine import create_session_factory
from bot.db.scratch import scratch_postgres, scratch_sqlite
from bot.directory.models import Employee, Unit
from bot.notifications.models import Notification, NotificationState
from bot.rollout.service import schedule_wave
from bot.settings import Settings

TENANT = "bench-tenant"
UNIT = "BENCH"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=6400)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--connector-url", help="a Bot Connector to call instead of the fake")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--fail-429", type=float, default=0.01, help="fake: share of 429s")
    parser.add_argument("--retry-after", type=int, default=1, help="fake: Retry-After of a 429")
    parser.add_argument("--fail-5xx", type=float, default=0.01, help="fake: share of 5xx")
    parser.add_argument(
        "--server-errors",
        default="502,503,504",
        help="fake: the 5xx it answers with (Teams' transient ones; a 500 is final for a row)",
    )
    parser.add_argument("--timeouts", type=float, default=0.0, help="fake: share of timeouts")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="fake: answer latency")
    parser.add_argument("--send-timeout", type=float, default=5.0)
    parser.add_argument(
        "--margin",
        type=float,
        default=0.96,
        help="the dispatcher's rate as a share of the limit (requests arrive with jitter)",
    )
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


@contextlib.contextmanager
def connector(args: argparse.Namespace) -> Iterator[str]:
    """The URL to send to: the one given, or the fake Bot Connector in a process of its own.

    Its own process, like Teams: in a thread of this one, it would wait for our GIL and take
    requests in bunches, which its rate limit then counts as bursts.
    """
    if args.connector_url:
        yield args.connector_url.rstrip("/")
        return
    command = [
        sys.executable,
        "-m",
        "bot.adapters.botframework.fake_connector",
        "--port",
        "0",
        "--rps",
        str(int(args.rps)),
        "--fail-429",
        str(args.fail_429),
        "--retry-after",
        str(args.retry_after),
        "--fail-5xx",
        str(args.fail_5xx),
        "--server-errors",
        args.server_errors,
        "--timeouts",
        str(args.timeouts),
        "--hang-seconds",
        str(args.send_timeout * 2),
        "--timeout-delivers",
        "--latency-ms",
        str(args.latency_ms),
        "--jitter-ms",
        str(args.latency_ms / 2),
        "--seed",
        str(args.seed),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        if "http://" not in banner:
            raise SystemExit(f"the fake Bot Connector did not start: {banner}")
        yield banner[banner.index("http://") :].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[AsyncEngine]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            async with scratch_sqlite(Path(folder), "fanout.sqlite3") as engine:
                yield engine
        return
    if not url.startswith("postgresql"):
        raise SystemExit("--database-url: a PostgreSQL URL (SQLite is the default)")
    async with scratch_postgres(url) as engine:
        yield engine


async def seed(engine: AsyncEngine, recipients: int, service_url: str, today: date) -> None:
    """One unit, its employees, each with a conversation of their own; its window opens today."""
    sessions = create_session_factory(engine)
    ids = [f"00000000-0000-4000-9000-{number:012d}" for number in range(recipients)]
    async with sessions() as session, session.begin():
        session.add(Unit(code=UNIT, name_fi="Mittausyksikkö", name_en="Benchmark unit"))
        await session.flush()
        await session.execute(
            insert(Employee),
            [
                {"aad_object_id": aad, "display_name": f"Työntekijä {n}", "unit_code": UNIT}
                for n, aad in enumerate(ids)
            ],
        )
        await session.execute(
            insert(ConversationReferenceRecord),
            [
                {
                    "conversation_id": f"a:bench-{n}",
                    "conversation_type": "personal",
                    "channel_id": "msteams",
                    "service_url": service_url,
                    "tenant_id": TENANT,
                    "aad_object_id": aad,
                    "reference": {"conversation": {"id": f"a:bench-{n}"}},
                }
                for n, aad in enumerate(ids)
            ],
        )
        await schedule_wave(
            session=session,
            name="Mittausaalto",
            opens_on=today,
            closes_on=today + timedelta(days=14),
            unit_codes=[UNIT],
        )


async def settled_counts(engine: AsyncEngine) -> dict[str, int]:
    async with create_session_factory(engine)() as session:
        rows = await session.execute(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        return {state: count for state, count in rows}


async def fake_summary(url: str) -> dict[str, Any] | None:
    """The connector's own count, when it is one of our fakes (or answers like one)."""
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/_fake/summary") as answer:
            return await answer.json() if answer.status == 200 else None
    except (aiohttp.ClientError, ValueError):
        return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        app_id="",
        app_tenant_id=TENANT,
        notify_rate_per_second=args.rps * args.margin,
        notify_working_hours="00:00-24:00",
        notify_working_days="mon-sun",
        notify_public_holidays=False,  # a benchmark run on a holiday measures the same
        send_timeout_seconds=args.send_timeout,
        background_jobs=False,
    )
    now = system_clock()
    with connector(args) as url:
        async with database(args.database_url) as engine:
            await seed(engine, args.recipients, url, helsinki_today(now))
            sessions = create_session_factory(engine)
            async with aiohttp.ClientSession() as http:
                dispatcher = build_dispatcher(
                    settings,
                    sessions,
                    http,
                    NoTokenProvider(),
                    clock=system_clock,
                    installer=None,
                    worker_id="bench",
                )
                planner = CampaignPlanner(sessions, dispatcher, clock=system_clock, reminder_days=0)
                started = time.perf_counter()
                await planner.plan_once()
                while True:
                    await dispatcher.run_until_idle()
                    counts = await settled_counts(engine)
                    unsettled = counts.get(NotificationState.PENDING, 0) + counts.get(
                        NotificationState.SENDING, 0
                    )
                    if not unsettled:
                        break
                    await asyncio.sleep(0.2)  # rows waiting out a Retry-After or a backoff
                seconds = time.perf_counter() - started
            summary = await fake_summary(url)
    delivered = counts.get(NotificationState.DELIVERED, 0)
    duplicates = None
    if summary is not None:
        duplicates = sum(count - 1 for count in summary.get("duplicates", {}).values())
    limit_seconds = args.recipients / args.rps
    return {
        "recipients": args.recipients,
        "delivered": delivered,
        "failed": counts.get(NotificationState.FAILED, 0),
        "duplicates": duplicates,
        "seconds": round(seconds, 2),
        "messages_per_second": round(delivered / seconds, 2),
        "limit_seconds": round(limit_seconds, 2),
        "ratio_to_limit": round(seconds / limit_seconds, 3),
        "database": "postgresql" if args.database_url else "sqlite",
        "connector": args.connector_url or "fake Bot Connector (own process, Teams' limits)",
        "connector_summary": summary,
        "dispatcher": {**vars(dispatcher.stats), "process_pauses": dispatcher.rate.pauses},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    result = asyncio.run(run(parse_args()))
    json.dump(result, sys.stdout, indent=2, default=str)
    print()


if __name__ == "__main__":
    main()
