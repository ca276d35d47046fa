"""SQLite statements cost one trip to aiosqlite's thread, and transactions still hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The bot's SQLite engine on a file of its own."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.sqlite3'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every hand-over to an aiosqlite connection's thread, by the function handed over."""
    counted: Counter[str] = Counter()
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, function: Any, *args: Any, **kwargs: Any) -> Any:
        counted[getattr(function, "__name__", "?")] += 1
        return await original(self, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def test_a_read_is_one_trip_and_returning_its_connection_none(engine, trips):
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    trips.clear()
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
    assert [row[0] for row in rows] == [1, 2]
    assert sum(trips.values()) == 1


async def test_a_write_is_one_trip_and_its_commit_another(engine, trips):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
    trips.clear()
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
        assert inserted.rowcount == 2
    assert sum(trips.values()) == 2 and trips["commit"] == 1


async def test_a_failed_transaction_is_rolled_back(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    with pytest.raises(Exception, match="UNIQUE"):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
