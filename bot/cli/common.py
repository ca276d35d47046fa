"""What several commands share: a database session for one command's work, and their words."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from bot.i18n import Texts
    from bot.refusal import Refused


T = TypeVar("T")
# The commands are ICT's and payroll's in Pori: they speak Finnish, from the locale catalog.
CLI_LANGUAGE = "fi"


def cli_texts() -> Texts:
    """The commands' texts (messages, money, dates), in the commands' language."""
    from bot.i18n import texts

    return texts(CLI_LANGUAGE)


def say(key: str, **values: object) -> str:
    """A command's message from the catalog (`cli.*` and the like), in the commands' language."""
    return cli_texts()(key, **values)


def refusal_text(error: Refused) -> str:
    """A domain service's refusal in the commands' language; its str() holds only catalog keys."""
    return error.worded(cli_texts())


def log_use(settings: Settings, action: str, rows: int, subject: str | None = None) -> None:
    """The audit row for a command that is about to show or write people's data; if it cannot
    be written, the command fails before showing anything."""
    import asyncio

    from bot.clock import system_clock
    from bot.privacy.audit import Channel, Use, cli_actor, record_use

    async def write() -> None:
        async with open_session(settings) as session, session.begin():
            use = Use(cli_actor(), Channel.CLI, action, rows, subject)
            record_use(session, use, system_clock())

    asyncio.run(write())


async def read_once(settings: Settings, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One read-only session on the configured database."""
    async with open_session(settings) as session:
        return await read(session)


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for one command, disposed when the command is done."""
    from bot.db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the command's own engine."""
    from bot.db.engine import create_session_factory

    async with open_engine(settings) as engine, create_session_factory(engine)() as session:
        yield session


def freeze_startup_objects() -> None:
    """Keep the ~160,000 objects of the imports out of every later full garbage collection.

    Left in, each full collection walks them all (about 70 ms on this machine's kind), which can
    land in the middle of a directory sync or a burst of turns and stall the event loop.
    """
    gc.collect()
    gc.freeze()
