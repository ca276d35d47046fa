"""ICT's phone catalog: importing a new version."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import open_session
from bot.settings import Settings

if TYPE_CHECKING:
    pass


CATALOG_COLUMNS = (
    "Columns, by Finnish or English name: tuotekoodi/sku, merkki/brand, malli/name, "
    "hinta/price (euros) or price_cents, tallennustila/storage_gb, näyttö/screen_inches, "
    "kamera/camera_mp, dual_sim, esim, 5g/five_g, käyttöjärjestelmä/os (android, ios), "
    "perusmalli/base (exactly one), saatavilla/available (optional, default yes). "
    "Yes/no as kyllä/ei, yes/no, x/empty or 1/0; prices as 449,00 or 1 299,90 €."
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    catalog = commands.add_parser("catalog", help="phone catalog tasks").add_subparsers(
        title="catalog commands"
    )
    catalog_import = catalog.add_parser(
        "import",
        help="check a catalog file (.csv or .yaml) and make it the current catalog",
        epilog=CATALOG_COLUMNS,
    )
    catalog_import.add_argument("file", type=Path)
    catalog_import.add_argument(
        "--dry-run", action="store_true", help="only check the file; change nothing"
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
            f"{path}: luetteloa ei tuotu, tietokantaa ei muutettu. "
            f"Korjattavaa ({len(error.problems)}):\n{error}",
            file=sys.stderr,
        )
        return 1
    base = next(row for row in catalog.rows if row.is_base)
    summary = (
        f"{len(catalog.rows)} mallia, perusmalli {base.brand} {base.name} "
        f"{cli_texts().money(base.price_cents)}"
    )
    if args.dry_run:
        print(f"{path}: kunnossa: {summary}. Tietokantaa ei muutettu (--dry-run).")
        return 0

    async def run() -> int:
        async with open_session(settings) as session, session.begin():
            version = await import_catalog(
                session=session, rows=catalog.rows, source=catalog.source or path.name
            )
            return version.id

    version_id = asyncio.run(run())
    print(f"{path}: tuotu luetteloversioksi {version_id}: {summary}.")
    return 0
