"""The city's directory: syncing employees and units from Microsoft Graph."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.common import open_engine, say
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.directory.sync import SyncReport


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    directory = commands.add_parser(
        "directory", help=say("cli.directory.help.directory")
    ).add_subparsers(title=say("cli.help.commands"))
    directory_sync = directory.add_parser("sync", help=say("cli.directory.help.sync"))
    directory_sync.add_argument("--full", action="store_true", help=say("cli.directory.help.full"))
    directory_sync.set_defaults(run=_directory_sync)


def _directory_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.graph.client import GraphError
    from bot.adapters.graph.directory_sync import build_directory_sync
    from bot.db.engine import create_session_factory
    from bot.directory.sync import EmptyDirectory, SyncConflict

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
        print(say("cli.directory.not_synced", error=str(error)), file=sys.stderr)
        return 1
    print(_sync_text(report))
    return 0


def _sync_text(report: SyncReport) -> str:
    """One line for ICT: what kind of sync, how long it took, and what changed."""
    counted = {
        "seen": report.seen,
        "created": report.created,
        "updated": report.updated,
        "disabled": report.disabled,
        "left": report.left,
        "returned": report.returned,
        "units_created": report.units_created,
    }
    counts = ", ".join(
        say(f"cli.directory.count.{name}", count=count) for name, count in counted.items()
    )
    return say(
        "cli.directory.synced",
        kind=say("cli.directory.kind_full" if report.full else "cli.directory.kind_changes"),
        seconds=f"{report.duration_seconds:.1f}",
        counts=counts,
    )
