"""The `phonebot` command: serve, demo, database and manifest tasks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.run(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonebot", description="Puhelinbotti, the Teams bot")
    commands = parser.add_subparsers(title="commands")

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

    manifest = commands.add_parser("manifest", help="Teams app package").add_subparsers(
        title="manifest commands"
    )
    build = manifest.add_parser("build", help="write the app package zip")
    build.add_argument("-o", "--output", type=Path, default=Path("puhelinbotti.zip"))
    build.set_defaults(run=_manifest_build)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    web.run_app(create_app(settings), host=host, port=port, print=None)
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import migrate
    from bot.db.engine import create_engine

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    print(f"database at revision {revision}")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.runner import run_demo

    return run_demo(settings, port=args.port, playground=not args.no_playground)


def _manifest_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import build_package

    path = build_package(settings, args.output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
