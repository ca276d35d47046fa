"""The server, the demo and the database's migrations."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.common import open_engine, say
from bot.settings import SERVE_REFUSAL_CATALOG, Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    serve = commands.add_parser("serve", help=say("cli.server.help.serve"))
    serve.add_argument("--host", metavar=say("cli.metavar.host"))
    serve.add_argument("--port", type=int, metavar=say("cli.metavar.port"))
    serve.set_defaults(run=_serve)
    demo = commands.add_parser("demo", help=say("cli.server.help.demo"))
    demo.add_argument("--port", type=int, default=3978, metavar=say("cli.metavar.port"))
    demo.add_argument(
        "--no-playground", action="store_true", help=say("cli.server.help.no_playground")
    )
    demo.set_defaults(run=_demo)
    db = commands.add_parser("db", help=say("cli.server.help.db")).add_subparsers(
        title=say("cli.help.commands")
    )
    db.add_parser("upgrade", help=say("cli.server.help.upgrade")).set_defaults(run=_db_upgrade)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.access_log import RedactingAccessLogger
    from bot.app import create_app
    from bot.serving import serve
    from bot.telemetry.providers import start_telemetry

    host = args.host or settings.host
    port = args.port or settings.port
    refusal = settings.refusal_to_serve(host)
    if refusal is not None:
        worded = say(f"{SERVE_REFUSAL_CATALOG}.{refusal.key}", **refusal.values)
        print(say("cli.server.refused", refusal=worded), file=sys.stderr)
        return 2
    telemetry = start_telemetry(settings)
    app = create_app(settings, freeze_after_start=True, telemetry=telemetry)
    asyncio.run(
        serve(
            app,
            host=host,
            port=port,
            grace=settings.shutdown_grace_seconds,
            turn_timeout=settings.shutdown_timeout_seconds,
            access_log_class=RedactingAccessLogger,
        )
    )
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
