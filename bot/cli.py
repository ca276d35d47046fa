"""The `phonebot` command: serve, demo, database, catalog and manifest tasks."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot.settings import Settings

CATALOG_COLUMNS = (
    "Columns, by Finnish or English name: tuotekoodi/sku, merkki/brand, malli/name, "
    "hinta/price (euros) or price_cents, tallennustila/storage_gb, näyttö/screen_inches, "
    "kamera/camera_mp, dual_sim, esim, 5g/five_g, käyttöjärjestelmä/os (android, ios), "
    "perusmalli/base (exactly one), saatavilla/available (optional, default yes). "
    "Yes/no as kyllä/ei, yes/no, x/empty or 1/0; prices as 449,00 or 1 299,90 €."
)


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

    choices = commands.add_parser("choices", help="recorded phone choices").add_subparsers(
        title="choices commands"
    )
    export = choices.add_parser(
        "export", help="CSV (Finnish Excel conventions) for ICT and payroll"
    )
    export.add_argument(
        "--status", default="chosen", help="comma-separated statuses (default: chosen)"
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument(
        "--mark-ordered",
        action="store_true",
        help="mark the exported 'chosen' choices as ordered: employees can no longer change them",
    )
    export.set_defaults(run=_choices_export)

    deliver = choices.add_parser(
        "deliver", help="mark choices delivered; a Free Choice with a share gets its deduction plan"
    )
    deliver.add_argument("choice_ids", type=int, nargs="+", metavar="CHOICE_ID")
    deliver.set_defaults(run=_choices_deliver)

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


def _catalog_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog.importer import CatalogFileError, import_catalog, read_catalog_file
    from bot.db.engine import create_engine, create_session_factory
    from bot.i18n import texts

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
        f"{texts('fi').money(base.price_cents)}"
    )
    if args.dry_run:
        print(f"{path}: kunnossa: {summary}. Tietokantaa ei muutettu (--dry-run).")
        return 0

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                version = await import_catalog(
                    session=session, rows=catalog.rows, source=catalog.source or path.name
                )
                return version.id
        finally:
            await engine.dispose()

    version_id = asyncio.run(run())
    print(f"{path}: tuotu luetteloversioksi {version_id}: {summary}.")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.runner import run_demo

    return run_demo(settings, port=args.port, playground=not args.no_playground)


def _choices_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.choices.export import ExportRow, export_rows, write_csv
    from bot.choices.service import mark_all_ordered
    from bot.clock import system_clock
    from bot.db.engine import create_engine, create_session_factory

    statuses = [status.strip() for status in args.status.split(",") if status.strip()]
    if args.mark_ordered and args.output is None:
        print("phonebot: --mark-ordered needs -o FILE", file=sys.stderr)
        return 2
    staging = args.output.with_name(f".{args.output.name}.partial") if args.output else None

    async def run() -> list[ExportRow]:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                if args.mark_ordered:
                    ids = await mark_all_ordered(session=session, now=system_clock())
                    rows = await export_rows(session=session, statuses=["ordered"], choice_ids=ids)
                else:
                    rows = await export_rows(session=session, statuses=statuses)
                if staging is not None:
                    # Written before the commit: if the file cannot be written, nothing is locked.
                    with staging.open("w", encoding="utf-8", newline="") as stream:
                        write_csv(rows, stream)
                return rows
        finally:
            await engine.dispose()

    try:
        rows = asyncio.run(run())
    except BaseException as error:
        if staging is not None:
            staging.unlink(missing_ok=True)
        if isinstance(error, ValueError):
            print(f"phonebot: {error}", file=sys.stderr)
            return 2
        raise
    if staging is None:
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(encoding="utf-8", newline="")
        write_csv(rows, sys.stdout)
        return 0
    staging.replace(args.output)
    print(f"wrote {len(rows)} choices to {args.output}", file=sys.stderr)
    if args.mark_ordered:
        print(f"marked {len(rows)} choices as ordered", file=sys.stderr)
    return 0


def _choices_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import system_clock
    from bot.db.engine import create_engine, create_session_factory
    from bot.deductions.service import DeliveryError, deliver_choice

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                plans = 0
                for choice_id in args.choice_ids:
                    plan = await deliver_choice(
                        session=session, choice_id=choice_id, now=system_clock()
                    )
                    plans += plan is not None
                return plans
        finally:
            await engine.dispose()

    try:
        plans = asyncio.run(run())
    except DeliveryError as error:
        print(f"phonebot: {error}; mitään ei merkitty toimitetuksi", file=sys.stderr)
        return 1
    print(f"{len(args.choice_ids)} valintaa merkitty toimitetuksi, {plans} vähennyssuunnitelmaa")
    return 0


def _manifest_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import build_package

    path = build_package(settings, args.output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
