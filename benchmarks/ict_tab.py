"""ICT's tab at the city's scale: how fast its views answer, on SQLite and PostgreSQL.

Each database is fresh (a SQLite file, or a PostgreSQL schema dropped afterwards) and holds
6,400 employees in 40 units, 10 rollout waves of 4 units, a choice for about 60 % of the people
(both options, every open status, made over the windows), 20 campaigns of 6,400 notification rows
each (delivered, failed, waiting), 2,000 tickets with their first events, and 5,000 FAQ questions
with feedback.

The real app (`create_app` as `phonebot serve` builds it, authentication off, the benchmark's
user an ICT admin) serves on a port of this machine; one client asks for each view in turn, one
request at a time, `--rounds` times after two warm-up rounds. Printed per view: median and p95
in milliseconds, and the ratio to `/readyz` in the same run (one database round trip and the
migration check: the anchor). With Debian's chromium, the time from opening `/tabs/ict` in
headless Chromium until the progress table is shown is measured too (median of five).

    .venv/bin/python benchmarks/ict_tab.py [--rounds 30] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.payroll_import import fresh_database  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice  # noqa: E402
from bot.db.engine import create_session_factory  # noqa: E402
from bot.directory.models import Employee, Unit  # noqa: E402
from bot.faq.models import FaqFeedback, FaqQuestion  # noqa: E402
from bot.notifications.models import Campaign, Notification  # noqa: E402
from bot.rollout.models import RolloutWave, RolloutWaveUnit  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.tickets.models import Ticket, TicketEvent  # noqa: E402

EMPLOYEES = 6_400
UNITS = 40
WAVES = 10
CAMPAIGNS = 20
TICKETS = 2_000
QUESTIONS = 5_000
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
FIRST_WAVE = date(2027, 1, 4)
ADMIN = "bench-admin"
BATCH = 5_000
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()
VIEWS = (
    "/readyz",
    "/tabs/ict",
    "/tabs/ict/progress",
    "/tabs/ict/campaigns",
    "/tabs/ict/helpdesk",
    "/tabs/ict/units/U07/waiting",
    "/tabs/ict/units/U07/waiting.csv",
)


def person(index: int) -> str:
    return f"bench-{index:06d}"


async def fill(engine: Any) -> None:
    """The data described above, inserted in bulk."""
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(
            insert(Unit),
            [
                {"code": f"U{u:02d}", "name_fi": f"Yksikkö {u}", "name_en": f"Unit {u}"}
                for u in range(UNITS)
            ],
        )
        for wave in range(WAVES):
            opens = FIRST_WAVE + timedelta(weeks=2 * wave)
            await session.execute(
                insert(RolloutWave),
                [
                    {
                        "id": wave + 1,
                        "name": f"Aalto {wave + 1}",
                        "opens_on": opens,
                        "closes_on": opens + timedelta(days=20),
                        "created_at": NOW,
                    }
                ],
            )
            await session.execute(
                insert(RolloutWaveUnit),
                [{"wave_id": wave + 1, "unit_code": f"U{4 * wave + u:02d}"} for u in range(4)],
            )
        for start in range(0, EMPLOYEES, BATCH):
            indexes = range(start, min(start + BATCH, EMPLOYEES))
            await session.execute(
                insert(Employee),
                [
                    {
                        "aad_object_id": person(i),
                        "display_name": f"Työntekijä {i}",
                        "user_principal_name": f"tyontekija.{i}@pori.fi",
                        "employee_number": str(500_000 + i),
                        "unit_code": f"U{i % UNITS:02d}",
                        "account_enabled": True,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in indexes
                ],
            )
        statuses = [ChoiceStatus.CHOSEN, ChoiceStatus.ORDERED, ChoiceStatus.DELIVERED]
        choices = [
            {
                "aad_object_id": person(i),
                "option": (ChoiceOption.FREE_CHOICE if i % 3 else ChoiceOption.PORI_PHONE).value,
                "status": statuses[i % 3].value,
                "created_at": datetime.combine(
                    FIRST_WAVE + timedelta(weeks=2 * ((i % UNITS) // 4), days=i % 20),
                    datetime.min.time(),
                    UTC,
                )
                + timedelta(hours=8),
                "updated_at": NOW,
            }
            for i in range(EMPLOYEES)
            if i % 5 < 3
        ]
        for start in range(0, len(choices), BATCH):
            await session.execute(insert(PhoneChoice), choices[start : start + BATCH])
        for campaign in range(CAMPAIGNS):
            await session.execute(
                insert(Campaign),
                [
                    {
                        "id": campaign + 1,
                        "key": f"bench-{campaign}",
                        "kind": "announcement" if campaign % 2 else "window_open",
                        "title": f"Kampanja {campaign + 1}",
                        "payload": {},
                        "created_by": ADMIN,
                        "created_at": NOW - timedelta(days=CAMPAIGNS - campaign),
                        "state": "active",
                    }
                ],
            )
            rows = [
                {
                    "campaign_id": campaign + 1,
                    "recipient": person(i),
                    "state": "delivered" if i % 50 else ("failed" if i % 100 else "pending"),
                    "reason": None if i % 50 else ("blocked" if i % 100 else "throttled"),
                    "attempts": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "sent_at": NOW - timedelta(minutes=i % 120) if i % 50 else None,
                }
                for i in range(EMPLOYEES)
            ]
            for start in range(0, len(rows), BATCH):
                await session.execute(insert(Notification), rows[start : start + BATCH])
        tickets = []
        events = []
        for t in range(TICKETS):
            created = NOW - timedelta(hours=4 * t)
            state = ("open", "taken", "resolved")[t % 3]
            tickets.append(
                {
                    "id": t + 1,
                    "request_token": f"bench-{t}",
                    "requester_aad": person(t),
                    "requester_name": f"Työntekijä {t}",
                    "requester_language": "fi",
                    "topic": "other",
                    "description": "Puhelin ei käynnisty",
                    "state": state,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            events.append({"ticket_id": t + 1, "kind": "created", "at": created})
            if state != "open":
                events.append(
                    {"ticket_id": t + 1, "kind": "taken", "at": created + timedelta(hours=t % 7)}
                )
                events.append(
                    {"ticket_id": t + 1, "kind": "replied", "at": created + timedelta(hours=t % 9)}
                )
        await session.execute(insert(Ticket), tickets)
        await session.execute(insert(TicketEvent), events)
        await session.execute(
            insert(FaqQuestion),
            [
                {
                    "id": q + 1,
                    "text": f"kysymys numero {q % 700}",
                    "language": "fi",
                    "band": ("answer", "suggest", "unknown")[q % 3],
                    "topic_id": "free-choice-cost" if q % 3 == 0 else None,
                    "score": 0.5,
                    "asked_at": NOW - timedelta(minutes=q),
                    "asker_aad": person(q),
                }
                for q in range(QUESTIONS)
            ],
        )
        await session.execute(
            insert(FaqFeedback),
            [
                {
                    "question_id": q + 1,
                    "topic_id": "free-choice-cost",
                    "helpful": bool(q % 2),
                    "given_at": NOW,
                }
                for q in range(0, QUESTIONS, 3)
            ],
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(database: Any, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request of each view, the views taken in turn, one request at a time."""
    engine = database.engine()
    settings = Settings(
        database_url=database.url,
        app_id="",
        ict_admin_ids=ADMIN,
        tab_local_user_id=ADMIN,
        background_jobs=False,
    )
    # As `phonebot serve` runs it: what start-up built is kept out of later full collections.
    app = create_app(settings, engine=engine, clock=lambda: NOW, freeze_after_start=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    timings: dict[str, list[float]] = {view: [] for view in VIEWS}
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            for round_ in range(rounds + 2):
                for view in VIEWS:
                    started = time.perf_counter()
                    async with http.get(view) as response:
                        await response.read()
                        assert response.status == 200, (view, response.status)
                    if round_ >= 2:
                        timings[view].append((time.perf_counter() - started) * 1000)
            timings["page in Chromium"] = await page_ready(port)
    finally:
        await runner.cleanup()
        await engine.dispose()
    return timings


async def page_ready(port: int) -> list[float]:
    """Milliseconds from opening the tab until its progress table shows, five times."""
    if not CHROMIUM_INSTALLED:
        return []
    from playwright.async_api import async_playwright

    times = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            for _ in range(6):
                page = await browser.new_page()
                started = time.perf_counter()
                await page.goto(f"http://127.0.0.1:{port}/tabs/ict")
                await page.locator("table.units").first.wait_for(timeout=30_000)
                times.append((time.perf_counter() - started) * 1000)
                await page.close()
        finally:
            await browser.close()
    return times[1:]  # the first warms the browser up


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(0.95 * len(ordered) + 0.999999) - 1, 0)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"{EMPLOYEES} employees, {UNITS} units, {WAVES} waves, {CAMPAIGNS} campaigns of "
        f"{EMPLOYEES} rows, {TICKETS} tickets, {QUESTIONS} questions; {args.rounds} rounds of "
        "every view, one request at a time"
    )
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.databases.split(","):
            async with fresh_database(kind, Path(workdir)) as database:
                started = time.perf_counter()
                engine = database.engine()
                try:
                    await fill(engine)
                finally:
                    await engine.dispose()
                print(f"\n{kind}: filled in {time.perf_counter() - started:.1f} s")
                timings = await measure(database, args.rounds)
            anchor = statistics.median(timings["/readyz"])
            print(f"  {'view':<34} {'median ms':>10} {'p95 ms':>8} {'× /readyz':>10}")
            for view, values in timings.items():
                if not values:
                    print(f"  {view:<34} {'(no chromium)':>10}")
                    continue
                median = statistics.median(values)
                print(f"  {view:<34} {median:>10.1f} {p95(values):>8.1f} {median / anchor:>10.1f}")


if __name__ == "__main__":
    asyncio.run(main())
