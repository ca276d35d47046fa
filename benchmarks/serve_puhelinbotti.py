"""Runs Puhelinbotti on a local port for the turn latency benchmark, authentication on.

The database must already be migrated. With `--schema`, PostgreSQL sessions use that schema
through `search_path`. Replies go out with a fixed token, to whatever serviceUrl activities name.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from pyinstrument import Profiler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.tokens import FixedTokenProvider
from bot.app import create_app
from bot.db.engine import create_engine
from bot.settings import Settings

OUTGOING_TOKEN = "bench"


def build_engine(database_url: str, schema: str | None) -> AsyncEngine:
    """The bot's engine, confined to `schema` when one is given."""
    options: dict[str, Any] = {}
    if schema:
        options["connect_args"] = {"server_settings": {"search_path": schema}}
    return create_engine(database_url, **options)


def build_app(args: argparse.Namespace) -> web.Application:
    """create_app with real JWT validation against the given OpenID metadata."""
    extra = dict(setting.split("=", 1) for setting in args.setting)
    settings = Settings(
        app_id=args.app_id,
        openid_metadata_url=args.openid_metadata_url,
        database_url=args.database_url,
        **extra,
    )
    engine = build_engine(args.database_url, args.schema)
    app = create_app(
        settings,
        engine=engine,
        token_provider=FixedTokenProvider(OUTGOING_TOKEN),
        freeze_after_start=True,
    )

    async def dispose_engine(app: web.Application) -> None:
        await engine.dispose()

    app.on_cleanup.append(dispose_engine)
    return app


def main() -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema")
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--openid-metadata-url", required=True)
    parser.add_argument(
        "--setting", action="append", default=[], help="name=value for Settings, repeatable"
    )
    parser.add_argument("--profile", help="write a pyinstrument call tree here on exit")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not args.profile:
        web.run_app(build_app(args), host="127.0.0.1", port=args.port, print=None)
        return
    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        web.run_app(build_app(args), host="127.0.0.1", port=args.port, print=None)
    finally:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_text(show_all=False, color=False))
        if profiler.last_session:
            profiler.last_session.save(f"{args.profile}.pyisession")


if __name__ == "__main__":
    main()
