"""The city's directory: syncing employees and units from Microsoft Graph."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.common import open_engine
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    pass


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    directory = commands.add_parser(
        "directory", help="employees and units from Microsoft Graph"
    ).add_subparsers(title="directory commands")
    directory_sync = directory.add_parser(
        "sync", help="bring employees, units and leavers up to date (changes since the last sync)"
    )
    directory_sync.add_argument(
        "--full", action="store_true", help="list everyone instead of asking for changes"
    )
    directory_sync.set_defaults(run=_directory_sync)


def _directory_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.graph.client import GraphError
    from bot.adapters.graph.directory_sync import build_directory_sync
    from bot.db.engine import create_session_factory
    from bot.directory.sync import EmptyDirectory, SyncConflict, SyncReport

    async def run() -> SyncReport:
        async with open_engine(settings) as engine:
            sync = build_directory_sync(
                settings, create_session_factory(engine), clock=system_clock
            )
            try:
                return await sync.run(full=args.full)
            finally:
                await sync.aclose()

    try:
        report = asyncio.run(run())
    except (GraphError, EmptyDirectory, SyncConflict) as error:
        print(f"phonebot: hakemistoa ei synkronoitu, mitään ei muutettu: {error}", file=sys.stderr)
        return 1
    kind = "täysi" if report.full else "muutokset"
    print(
        f"hakemisto synkronoitu ({kind}, {report.duration_seconds:.1f} s): "
        f"{report.seen} käyttäjää, {report.created} uutta, {report.updated} muuttunutta, "
        f"{report.disabled} poistettu käytöstä, {report.left} lähtenyttä, "
        f"{report.returned} palannutta, {report.units_created} uutta yksikköä"
    )
    return 0
