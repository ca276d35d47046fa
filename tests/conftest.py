"""Fixtures: a migrated database on SQLite and PostgreSQL, the running bot, no internet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from tests.support.bot import BotUnderTest, running_bot
from tests.support.database import postgres_database, sqlite_database
from tests.support.network import forbid_internet

forbid_internet()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database, once per backend."""
    if request.param == "sqlite":
        async with sqlite_database(tmp_path) as engine:
            yield engine
    else:
        async with postgres_database() as engine:
            yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """For tests whose subject does not depend on the database backend."""
    async with sqlite_database(tmp_path) as engine:
        yield engine


@pytest.fixture
async def bot(sqlite_engine: AsyncEngine) -> AsyncIterator[BotUnderTest]:
    async with running_bot(sqlite_engine) as running:
        yield running


@pytest.fixture(scope="session")
def openid_server() -> Iterator[FakeOpenIdServer]:
    with FakeOpenIdServer() as server:
        yield server
