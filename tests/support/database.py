"""A migrated, empty database per test: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

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
