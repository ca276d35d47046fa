"""ICT's phone catalog: importing a new version."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.common import open_session, say
from bot.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    catalog = commands.add_parser("catalog", help=say("cli.catalog.help.catalog")).add_subparsers(
        title=say("cli.help.commands")
    )
    catalog_import = catalog.add_parser(
        "import",
        help=say("cli.catalog.help.import"),
        epilog=say("cli.catalog.help.columns"),
    )
    catalog_import.add_argument("file", type=Path, metavar=say("cli.metavar.file"))
    catalog_import.add_argument(
        "--dry-run", action="store_true", help=say("cli.catalog.help.dry_run")
    )
    catalog_import.set_defaults(run=_catalog_import)


def _catalog_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog.importer import CatalogFileError, import_catalog, read_catalog_file
    from bot.cli.common import cli_texts

    path: Path = args.file
    try:
        catalog = read_catalog_file(path)
    except CatalogFileError as error:
        print(
            say(
                "cli.catalog.not_imported",
                path=str(path),
                problems=len(error.problems),
                error=error.worded(cli_texts()),
            ),
            file=sys.stderr,
        )
        return 1
    base = next(row for row in catalog.rows if row.is_base)
    summary = say(
        "cli.catalog.summary",
        count=len(catalog.rows),
        brand=base.brand,
        model=base.name,
        price=cli_texts().money(base.price_cents),
    )
    if args.dry_run:
        print(say("cli.catalog.checked", path=str(path), summary=summary))
        return 0

    async def run() -> int:
        async with open_session(settings) as session, session.begin():
            version = await import_catalog(
                session=session, rows=catalog.rows, source=catalog.source or path.name
            )
            return version.id

    version_id = asyncio.run(run())
    print(say("cli.catalog.imported", path=str(path), version=str(version_id), summary=summary))
    return 0
