"""A migrated database of its own, removed afterwards: for tests and benchmarks.

A SQLite file in a given folder, or a PostgreSQL schema with a random name that the engine's
search_path points at, dropped when done.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import migrate
from bot.db.engine import create_engine


@asynccontextmanager
async def scratch_sqlite(directory: Path, name: str = "bot.sqlite3") -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / name}")
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_postgres(url: str, **engine_options: object) -> AsyncIterator[AsyncEngine]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(
        url, connect_args={"server_settings": {"search_path": schema}}, **engine_options
    )
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
