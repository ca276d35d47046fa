"""A campaign in a database of its own, for tests that run the bot as a separate process."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from aiohttp.test_utils import TestServer
from sqlalchemy import func, insert, select

from bot.adapters.botframework.fake_connector import FakeBotConnector, Faults
from bot.conversations.models import ConversationReferenceRecord
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.directory.models import Employee, Unit
from bot.notifications.models import Notification
from bot.rollout.service import schedule_wave

ROOT = Path(__file__).resolve().parent.parent.parent
# The process runs on the machine's clock: a window open whatever today is.
WINDOW_OPENS, WINDOW_CLOSES = date(2000, 1, 1), date(2099, 12, 31)
CAMPAIGN_CONVERSATION = "a:chat-"


def recipients(count: int) -> list[str]:
    return [f"00000000-0000-4000-a000-{number:012d}" for number in range(count)]


async def seed_campaign(database_url: str, service_url: str, *, count: int, tenant: str) -> None:
    """A migrated database with `count` people, each with a chat, and their unit's window open."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    people = recipients(count)
    async with create_session_factory(engine)() as session, session.begin():
        session.add(Unit(code="KAIKKI", name_fi="Kaikki", name_en="Everyone"))
        await session.flush()
        await session.execute(
            insert(Employee), [{"aad_object_id": aad, "unit_code": "KAIKKI"} for aad in people]
        )
        await session.execute(
            insert(ConversationReferenceRecord),
            [
                {
                    "conversation_id": f"{CAMPAIGN_CONVERSATION}{aad}",
                    "channel_id": "msteams",
                    "service_url": service_url,
                    "tenant_id": tenant,
                    "aad_object_id": aad,
                    "reference": {},
                }
                for aad in people
            ],
        )
        await schedule_wave(
            session=session,
            name="Kaikki kerralla",
            opens_on=WINDOW_OPENS,
            closes_on=WINDOW_CLOSES,
            unit_codes=["KAIKKI"],
        )
    await engine.dispose()


def process_environment(database_url: str, tenant: str, **extra: str) -> dict[str, str]:
    """Sending at any hour on any day, quietly; `extra` on top."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "MicrosoftAppId": "",
        "MicrosoftAppTenantId": tenant,
        "NOTIFY_WORKING_HOURS": "00:00-24:00",
        "NOTIFY_WORKING_DAYS": "mon-sun",
        "NOTIFY_PUBLIC_HOLIDAYS": "false",
        "NOTIFY_EXTRA_HOLIDAYS": "",
        "PLANNER_INTERVAL_SECONDS": "1",
        "DIRECTORY_SYNC_INTERVAL_MINUTES": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def start_bot(
    environment: dict[str, str], *arguments: str, log: list[str] | None = None
) -> asyncio.subprocess.Process:
    """`phonebot <arguments>` as its own process, as in production; with `log`, what it writes
    to stderr is collected there line by line (read as it comes, so the pipe never fills)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *arguments,
        cwd=ROOT,
        env=environment,
        stderr=asyncio.subprocess.PIPE if log is not None else None,
    )
    if log is not None:
        assert process.stderr is not None
        _readers.add(asyncio.create_task(_collect(process.stderr, log)))
    return process


_readers: set[asyncio.Task[None]] = set()


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    async for line in stream:
        lines.append(line.decode().rstrip("\n"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the fake has no event to wait on)
            await asyncio.sleep(0.05)


async def notification_states(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        states = dict(
            (
                await session.execute(
                    select(Notification.state, func.count()).group_by(Notification.state)
                )
            ).all()
        )
    await engine.dispose()
    return states


async def until_all_delivered(database_url: str, count: int, seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while await notification_states(database_url) != {"delivered": count}:  # noqa: ASYNC110 (another process writes it)
            await asyncio.sleep(0.2)


@asynccontextmanager
async def fake_teams(latency: float) -> AsyncIterator[tuple[FakeBotConnector, str]]:
    """The fake Bot Connector in this process, answering after `latency` s; and its URL."""
    fake = FakeBotConnector(faults=Faults(latency=latency))
    server = TestServer(fake.app())
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
