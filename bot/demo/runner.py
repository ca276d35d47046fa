"""`phonebot demo`: a migrated SQLite database with demo data, the bot, and the Playground."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.demo.loader import demo_data, load_demo_data
from bot.demo.playground import (
    DEFAULT_PORT,
    Playground,
    PlaygroundError,
    node_available,
    playground_config,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_NODE_HELP = """
Node.js is not installed, so the local Teams client (Microsoft 365 Agents Playground)
is not started. The bot is running at {endpoint}. To chat with it:
  * install Node.js 20+ and run this command again (it installs the Playground with `npm ci`), or
  * connect real Teams: expose this port over HTTPS (e.g. a dev tunnel), register an Azure Bot with
    that URL + /api/messages, set MicrosoftAppId/MicrosoftAppPassword, and upload the package from
    `phonebot manifest build -o puhelinbotti.zip` in Teams (Apps -> Manage your apps -> Upload).
"""


async def prepare_database(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with create_session_factory(engine)() as session, session.begin():
            counts = await load_demo_data(session=session)
        log.info(
            "demo data: %d units, %d employees, %d sample phones",
            counts.units,
            counts.employees,
            counts.phone_models,
        )
    finally:
        await engine.dispose()


def run_demo(settings: Settings, *, port: int, playground: bool = True) -> int:
    asyncio.run(prepare_database(settings))
    endpoint = f"http://127.0.0.1:{port}/api/messages"
    client: Playground | None = None
    if playground and node_available():
        client = Playground(
            bot_endpoint=endpoint,
            config=playground_config(demo_data()["employees"]),
            workdir=Path("var") / "playground",
            port=DEFAULT_PORT,
        )
        try:
            client.start()
        except PlaygroundError as error:
            log.error("%s", error)
            client = None
    if client is not None:
        print(f"\n  Puhelinbotti is running. Open {client.url} in a browser to chat with it.\n")
    elif playground:
        print(NO_NODE_HELP.format(endpoint=endpoint))
    try:
        web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None)
    finally:
        if client is not None:
            client.stop()
    return 0
