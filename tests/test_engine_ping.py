"""Pooled PostgreSQL connections are checked when they have been idle, not on every checkout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, ping_when_idle
from tests.support.database import POSTGRES_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counting(self: AsyncAdapt_asyncpg_connection) -> None:
        counted.append(1)
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return counted


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


async def test_a_connection_in_steady_use_is_never_pinged(engine, pings):
    """Upstream's pool_pre_ping would ping before each of these: three per chat turn."""
    first = await backend_pid(engine)
    for _ in range(20):
        assert await backend_pid(engine) == first
    assert pings == []


async def kill(pid: int) -> None:
    killer = create_engine(POSTGRES_URL)
    async with killer.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()


async def test_an_idle_connection_that_died_is_replaced_before_use(engine, pings):
    ping_when_idle(engine, idle_seconds=0.0)  # every connection counts as idle
    dead = await backend_pid(engine)
    await kill(dead)
    assert await backend_pid(engine) != dead
    assert pings, "the idle connection was checked"


async def test_one_that_dies_right_after_use_fails_once_and_the_pool_recovers(engine, pings):
    dead = await backend_pid(engine)
    await kill(dead)
    with pytest.raises(DBAPIError):
        await backend_pid(engine)
    assert await backend_pid(engine) != dead
    assert pings == []
