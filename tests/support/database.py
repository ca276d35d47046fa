"""A migrated, empty database per test: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine
from bot.db.scratch import scratch_postgres, scratch_sqlite

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[AsyncEngine]:
    async with scratch_sqlite(directory) as engine:
        yield engine


@asynccontextmanager
async def postgres_database(**engine_options: object) -> AsyncIterator[AsyncEngine]:
    async with scratch_postgres(POSTGRES_URL, **engine_options) as engine:
        yield engine


@asynccontextmanager
async def second_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Another engine (its own pool, as another bot process has) on `engine`'s PostgreSQL schema."""
    async with engine.connect() as connection:
        schema = await connection.scalar(text("SELECT current_schema()"))
    other = create_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield other
    finally:
        await other.dispose()
