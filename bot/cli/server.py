"""The server, the demo and the database's migrations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from bot.cli.common import open_engine, say
from bot.settings import Settings

if TYPE_CHECKING:
    pass


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    serve = commands.add_parser("serve", help="run the bot's HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)
    demo = commands.add_parser("demo", help="migrate, load demo data, run the bot and Playground")
    demo.add_argument("--port", type=int, default=3978)
    demo.add_argument("--no-playground", action="store_true", help="do not start the Playground")
    demo.set_defaults(run=_demo)
    db = commands.add_parser("db", help="database tasks").add_subparsers(title="db commands")
    db.add_parser("upgrade", help="apply migrations up to head").set_defaults(run=_db_upgrade)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    refusal = settings.refusal_to_serve(host)
    if refusal:
        print(f"phonebot serve: {refusal}", file=sys.stderr)
        return 2
    app = create_app(settings, freeze_after_start=True)
    web.run_app(app, host=host, port=port, print=None)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.runner import run_demo

    return run_demo(settings, port=args.port, playground=not args.no_playground)


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import migrate

    async def run() -> str | None:
        async with open_engine(settings) as engine:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)

    revision = asyncio.run(run())
    print(say("cli.database_revision", revision=revision))
    return 0
