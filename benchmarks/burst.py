"""A unit's turn opens: thousands of first messages in a minute, then a campaign to all of them.

One Puhelinbotti process (authentication on, PostgreSQL, background jobs on) beside the fake
Bot Connector. The directory holds `--users` employees of one unit. Each round:

1. burst: every employee sends one message, arrivals spread evenly over `--seconds` (round 1:
   their first message ever, so each is welcomed and registered); every request is timed;
2. campaign: a rollout wave for the unit is scheduled; the bot's own planner and dispatcher
   tell every employee in the chat their burst message opened, at `--notify-rate` per second
   (Teams' limit is 50); the round ends when every notification is settled.

The bot's resident memory is sampled every 0.2 s throughout. Rounds after the first repeat
both halves, to show whether memory grows. Prints one JSON object.

    .venv/bin/python benchmarks/burst.py [--users 6400] [--seconds 60] [--rounds 2]
        [--notify-rate 50] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from serve_puhelinbotti import build_engine  # noqa: E402
from turn_latency import (  # noqa: E402
    Sample,
    Server,
    fresh_database,
    timed_post,
    wait_ready,
)

from bot.adapters.botframework.fake_openid import FakeOpenIdServer  # noqa: E402
from bot.clock import helsinki_today, system_clock  # noqa: E402
from bot.directory.models import Employee, Unit  # noqa: E402
from bot.notifications.models import Notification  # noqa: E402
from bot.rollout.models import RolloutWave, RolloutWaveUnit  # noqa: E402
from tests.support.activities import TeamsUser, message  # noqa: E402

UNIT = "KUORMA"
SETTLED = ("delivered", "failed", "cancelled")
RSS_INTERVAL_SECONDS = 0.2


@dataclass
class MemoryProbe:
    """Resident set size of one process, sampled in the background."""

    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def run(self) -> None:
        started = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - started, round(self.rss_mib())))
            await asyncio.sleep(RSS_INTERVAL_SECONDS)

    def peak_since(self, since: int) -> int:
        return max((rss for _, rss in self.samples[since:]), default=0)


async def seed_directory(url: str, schema: str | None, users: list[TeamsUser]) -> None:
    """One unit and its employees, as a directory sync would leave them."""
    engine = build_engine(url, schema)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                Unit.__table__.insert().values(code=UNIT, name_fi="Kuormitus", name_en="Load")
            )
            await connection.execute(
                Employee.__table__.insert(),
                [
                    {
                        "aad_object_id": user.aad_object_id,
                        "display_name": user.name,
                        "employee_number": f"{100000 + number}",
                        "user_principal_name": f"user{number}@pori.example",
                        "unit_code": UNIT,
                        "account_enabled": True,
                    }
                    for number, user in enumerate(users)
                ],
            )
    finally:
        await engine.dispose()


async def open_wave(url: str, schema: str | None, round_number: int) -> None:
    """A wave for the unit that is open today; the bot's planner finds it on its next run."""
    engine = build_engine(url, schema)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM rollout_wave_unit"))
            wave_id = (
                await connection.execute(
                    RolloutWave.__table__.insert()
                    .values(
                        name=f"Kuorma {round_number}",
                        opens_on=helsinki_today(system_clock()) - timedelta(days=1),
                        closes_on=helsinki_today(system_clock()) + timedelta(days=30),
                    )
                    .returning(RolloutWave.__table__.c.id)
                )
            ).scalar_one()
            await connection.execute(
                RolloutWaveUnit.__table__.insert().values(wave_id=wave_id, unit_code=UNIT)
            )
    finally:
        await engine.dispose()


async def notification_states(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        return {state: count for state, count in rows}


async def burst(
    session: aiohttp.ClientSession,
    messages_url: str,
    headers: dict[str, str],
    bodies: list[bytes],
    seconds: float,
) -> Sample:
    """Every body posted once, arrivals evenly spaced over `seconds`, whatever the answers."""
    sample = Sample()
    started = time.perf_counter()

    async def post(index: int, body: bytes) -> None:
        await asyncio.sleep(max(0.0, started + index * seconds / len(bodies) - time.perf_counter()))
        await timed_post(session, messages_url, body, headers, sample)

    await asyncio.gather(*(post(index, body) for index, body in enumerate(bodies)))
    sample.wall = time.perf_counter() - started
    return sample


async def wait_for_campaign(url: str, schema: str | None, expected: int) -> dict[str, Any]:
    """Until `expected` notifications of this round exist and none is pending."""
    started = time.perf_counter()
    engine = build_engine(url, schema)
    try:
        while True:
            states = await notification_states(engine)
            settled = sum(count for state, count in states.items() if state in SETTLED)
            if sum(states.values()) >= expected and settled == sum(states.values()):
                return {"seconds": round(time.perf_counter() - started, 1), "states": states}
            await asyncio.sleep(1.0)
    finally:
        await engine.dispose()


async def measure(options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    users = [TeamsUser.new(f"Työntekijä {number:04d}") for number in range(options.users)]
    result: dict[str, Any] = {"users": options.users, "seconds": options.seconds, "rounds": []}
    async with contextlib.AsyncExitStack() as stack:
        openid = stack.enter_context(FakeOpenIdServer())
        session = await stack.enter_async_context(
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=60),
                connector=aiohttp.TCPConnector(limit=0),
            )
        )
        connector = Server("connector", "serve_connector.py", [], workdir)
        stack.callback(connector.stop)
        await wait_ready(session, connector, "/bench/stats")
        url, schema = await stack.enter_async_context(fresh_database("postgresql", workdir))
        await seed_directory(url, schema, users)
        app_id = str(uuid.uuid4())
        settings = {
            "planner_interval_seconds": "2",
            "notify_rate_per_second": str(options.notify_rate),
            "notify_working_hours": "00:00-24:00",
            "notify_working_days": "mon-sun",
            "notify_public_holidays": "false",
        }
        args = ["--database-url", url, "--app-id", app_id]
        args += ["--openid-metadata-url", openid.metadata_url, "--schema", str(schema)]
        for name, value in settings.items():
            args += ["--setting", f"{name}={value}"]
        bot = Server("puhelinbotti", "serve_puhelinbotti.py", args, workdir)
        stack.callback(bot.stop)
        await wait_ready(session, bot, "/readyz")
        probe = MemoryProbe(bot.process.pid)
        sampler = asyncio.create_task(probe.run())
        stack.callback(sampler.cancel)
        await asyncio.sleep(1.0)
        result["rss_mib_after_start"] = probe.peak_since(0)
        token = openid.sign(app_id=app_id, service_url=connector.url)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        for round_number in range(1, options.rounds + 1):
            await session.get(f"{connector.url}/bench/stats")
            bodies = [json.dumps(message(user, connector.url, "hei")).encode() for user in users]
            first_sample = len(probe.samples)
            sample = await burst(
                session, f"{bot.url}/api/messages", headers, bodies, options.seconds
            )
            async with session.get(f"{connector.url}/bench/stats") as response:
                replies = (await response.json())["activities"]
            burst_peak = probe.peak_since(first_sample)
            await open_wave(url, schema, round_number)
            campaign = await wait_for_campaign(url, schema, options.users * round_number)
            result["rounds"].append(
                {
                    "round": round_number,
                    "burst": {
                        "requests": len(sample.latencies),
                        "answered": len(sample.latencies) - sample.errors,
                        "errors": dict(sample.failures),
                        "error_examples": sample.failure_examples,
                        "seconds": round(sample.wall, 1),
                        "p50_ms": round(sample.percentile_ms(0.5), 1),
                        "p99_ms": round(sample.percentile_ms(0.99), 1),
                        "max_ms": round(sample.percentile_ms(1.0), 1),
                        "activities_sent": replies,
                        "bot_errors_logged": bot.errors_since(0),
                    },
                    "campaign": campaign,
                    "rss_mib_peak_burst": burst_peak,
                    "rss_mib_peak_round": probe.peak_since(first_sample),
                    "rss_mib_end_of_round": probe.samples[-1][1],
                }
            )
            print(json.dumps(result["rounds"][-1]), file=sys.stderr)
        result["rss_mib_peak"] = probe.peak_since(0)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=6400)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--notify-rate", type=float, default=50.0)
    parser.add_argument("--quick", action="store_true", help="200 users in 5 s, one round")
    options = parser.parse_args(argv)
    if options.quick:
        options.users, options.seconds, options.rounds = 200, 5.0, 1
    with tempfile.TemporaryDirectory(prefix="burst-") as directory:
        result = asyncio.run(measure(options, Path(directory)))
    print(json.dumps(result, indent=2))
    failed = any(r["burst"]["errors"] or r["burst"]["bot_errors_logged"] for r in result["rounds"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
