"""The `phonebot` command: serve, demo, database, catalog, payroll and manifest tasks."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from pydantic import ValidationError

from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from bot.deductions.payroll import ReconciliationLine
    from bot.faq.service import TopicFeedback, Unanswered
    from bot.notifications.outbox import CampaignReport
    from bot.tickets.models import Ticket, TicketEvent

T = TypeVar("T")

CATALOG_COLUMNS = (
    "Columns, by Finnish or English name: tuotekoodi/sku, merkki/brand, malli/name, "
    "hinta/price (euros) or price_cents, tallennustila/storage_gb, näyttö/screen_inches, "
    "kamera/camera_mp, dual_sim, esim, 5g/five_g, käyttöjärjestelmä/os (android, ios), "
    "perusmalli/base (exactly one), saatavilla/available (optional, default yes). "
    "Yes/no as kyllä/ei, yes/no, x/empty or 1/0; prices as 449,00 or 1 299,90 €."
)
PAYROLL_FORMAT = (
    "The file payroll produces: CSV with ';' separators, UTF-8 (with or without BOM) or "
    "ISO-8859-1, or Excel's tab-separated Unicode text (UTF-16); one row per employee number and "
    "pay period, header "
    "henkilonumero;palkkakausi;summa (other columns are ignored); period as 2026-11 or 11/2026, "
    "amount as 12,50. A file with any problem changes nothing; the same file twice changes "
    "nothing; a row with a new amount for a stored period replaces it and is recorded."
)
DISCREPANCY_KINDS = {
    "missed": "vähennys puuttuu",
    "wrong_amount": "eri summa kuin suunnitelmassa",
    "after_paid_off": "vähennys jo maksetusta puhelimesta",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"phonebot: configuration error: {_one_line(error)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return int(args.run(args, settings) or 0)


def _one_line(error: ValidationError) -> str:
    """Each problem as `VARIABLE: reason`, on one line, without pydantic's links."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        reason = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {reason}" if where else reason)
    return "; ".join(problems)


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

    payroll = commands.add_parser("payroll", help="payroll's deduction files").add_subparsers(
        title="payroll commands"
    )
    payroll_import = payroll.add_parser(
        "import",
        help="check a payroll file and post its deductions to the ledger",
        epilog=PAYROLL_FORMAT,
    )
    payroll_import.add_argument("file", type=Path)
    payroll_import.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file against the database and show what would change; change nothing",
    )
    payroll_import.add_argument("--employee-column", default="henkilonumero", metavar="C")
    payroll_import.add_argument("--period-column", default="palkkakausi", metavar="C")
    payroll_import.add_argument("--amount-column", default="summa", metavar="C")
    payroll_import.set_defaults(run=_payroll_import)

    deductions = commands.add_parser(
        "deductions", help="salary deduction reports for ICT"
    ).add_subparsers(title="deductions commands")
    report = deductions.add_parser(
        "report", help="plans whose posted deductions differ from their schedule"
    )
    report.add_argument(
        "--leavers",
        action="store_true",
        help="instead: balances of employees who have left, for their final pay",
    )
    report.set_defaults(run=_deductions_report)
    import_plans = deductions.add_parser(
        "import-plans",
        help="plans that began before the bot: henkilonumero;malli;osuus;erat;ensimmainen_kausi",
    )
    import_plans.add_argument("file", type=Path)
    import_plans.add_argument("--dry-run", action="store_true", help="only check; change nothing")
    import_plans.set_defaults(run=_deductions_import_plans)

    rollout = commands.add_parser("rollout", help="unit rollout waves").add_subparsers(
        title="rollout commands"
    )
    schedule = rollout.add_parser("schedule", help="open units' choice window on given dates")
    schedule.add_argument("--name", required=True)
    schedule.add_argument("--opens", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    schedule.add_argument("--closes", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    schedule.add_argument("units", nargs="+", metavar="UNIT_CODE")
    schedule.set_defaults(run=_rollout_schedule)
    rollout.add_parser("list", help="every wave with its units").set_defaults(run=_rollout_list)

    dispatch = commands.add_parser(
        "dispatch",
        help="plan rollout notifications and send the outbox (and sync the directory), no HTTP",
    )
    dispatch.add_argument(
        "--once", action="store_true", help="plan, send all that may be sent now, then exit"
    )
    dispatch.add_argument("--worker-id", help="name in the outbox's claims (default host:pid)")
    dispatch.set_defaults(run=_dispatch)

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

    campaigns = commands.add_parser(
        "campaigns", help="notification campaigns and how their delivery goes"
    ).add_subparsers(title="campaigns commands")
    campaigns_list = campaigns.add_parser("list", help="the newest campaigns with their counts")
    campaigns_list.add_argument("--limit", type=int, default=50)
    campaigns_list.set_defaults(run=_campaigns_list)
    campaigns_show = campaigns.add_parser("show", help="one campaign: counts by state and reason")
    campaigns_show.add_argument("campaign_id", type=int, metavar="ID")
    campaigns_show.add_argument(
        "--follow", action="store_true", help="wait until every row is settled, with progress"
    )
    campaigns_show.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    campaigns_show.set_defaults(run=_campaigns_show)
    campaigns_cancel = campaigns.add_parser(
        "cancel", help="send no more of a campaign; what was sent stays sent"
    )
    campaigns_cancel.add_argument("campaign_id", type=int, metavar="ID")
    campaigns_cancel.set_defaults(run=_campaigns_cancel)
    campaigns_retry = campaigns.add_parser(
        "retry", help="send a campaign's failed notifications again (after an outage, say)"
    )
    campaigns_retry.add_argument("campaign_id", type=int, metavar="ID")
    campaigns_retry.add_argument(
        "--reason", help="only those that failed for this reason (as `campaigns show` lists them)"
    )
    campaigns_retry.set_defaults(run=_campaigns_retry)
    campaigns_export = campaigns.add_parser(
        "export", help="one row per recipient: state, failure reason, attempts, when sent (CSV)"
    )
    campaigns_export.add_argument("campaign_id", type=int, metavar="ID")
    campaigns_export.add_argument("-o", "--output", type=Path, help="file (default: stdout)")
    campaigns_export.set_defaults(run=_campaigns_export)

    tickets = commands.add_parser(
        "tickets", help="helpdesk tickets escalated from the chat"
    ).add_subparsers(title="tickets commands")
    tickets_list = tickets.add_parser("list", help="tickets, oldest first, for reporting")
    tickets_list.add_argument(
        "--state",
        default="open,taken",
        help="comma-separated: open, taken, resolved, or all (default: open,taken)",
    )
    tickets_list.add_argument("--csv", action="store_true", help="CSV for Excel instead of lines")
    tickets_list.set_defaults(run=_tickets_list)
    tickets_show = tickets.add_parser("show", help="one ticket and its whole history")
    tickets_show.add_argument("ticket_id", type=int, metavar="NUMBER")
    tickets_show.set_defaults(run=_tickets_show)

    manifest = commands.add_parser("manifest", help="Teams app package").add_subparsers(
        title="manifest commands"
    )
    build = manifest.add_parser("build", help="write the app package zip")
    build.add_argument("-o", "--output", type=Path, default=Path("puhelinbotti.zip"))
    build.set_defaults(run=_manifest_build)

    faq = commands.add_parser("faq", help="FAQ matching").add_subparsers(title="faq commands")
    faq_match = faq.add_parser(
        "match", help="match questions from standard input, one per line, as the bot does"
    )
    faq_match.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per line: {"question", "id", "score", "lang", "band", "candidates"}',
    )
    faq_match.set_defaults(run=_faq_match)
    faq_report = faq.add_parser(
        "report", help="what people asked that the bot could not answer, and 👍/👎 per topic"
    )
    faq_report.add_argument("--limit", type=int, default=50)
    faq_report.set_defaults(run=_faq_report)
    faq_facts = faq.add_parser(
        "facts",
        help="the program facts ICT confirms: status, who confirmed and when, the statement; "
        "exits 2 if facts.yaml or a text referring to it is broken",
    )
    faq_facts.add_argument(
        "--file", type=Path, help="check and list this facts.yaml instead of the packaged one"
    )
    faq_facts.set_defaults(run=_faq_facts)
    return parser


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


def _freeze_startup_objects() -> None:
    """Keep the ~160,000 objects of the imports out of every later full garbage collection.

    Left in, each full collection walks them all (about 70 ms on this machine's kind), which can
    land in the middle of a directory sync or a burst of turns and stall the event loop.
    """
    gc.collect()
    gc.freeze()


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import migrate

    async def run() -> str | None:
        async with _engine(settings) as engine:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)

    revision = asyncio.run(run())
    print(f"database at revision {revision}")
    return 0


def _catalog_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog.importer import CatalogFileError, import_catalog, read_catalog_file
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
        async with _session(settings) as session, session.begin():
            version = await import_catalog(
                session=session, rows=catalog.rows, source=catalog.source or path.name
            )
            return version.id

    version_id = asyncio.run(run())
    print(f"{path}: tuotu luetteloversioksi {version_id}: {summary}.")
    return 0


def _payroll_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.payroll import (
        PayrollColumns,
        PayrollFileError,
        PayrollResult,
        import_payroll,
        parse_payroll_file,
    )

    path: Path = args.file
    columns = PayrollColumns(args.employee_column, args.period_column, args.amount_column)

    async def run() -> PayrollResult:
        payroll_file = parse_payroll_file(path, columns)
        async with _session(settings) as session:
            result = await import_payroll(
                session=session,
                payroll_file=payroll_file,
                file_name=path.name,
                now=system_clock(),
            )
            if args.dry_run:
                await session.rollback()
            else:
                await session.commit()
            return result

    try:
        result = asyncio.run(run())
    except PayrollFileError as error:
        print(
            f"{path}: palkkatiedostoa ei tuotu, tietokantaa ei muutettu. "
            f"Korjattavaa ({len(error.problems)}):\n{error}",
            file=sys.stderr,
        )
        return 1
    counts = (
        f"{result.rows} riviä: {result.added} uutta, {result.corrected} korjattua, "
        f"{result.unchanged} ennallaan"
    )
    if args.dry_run:
        print(f"{path}: kunnossa: {counts}. Tietokantaa ei muutettu (--dry-run).")
    elif result.changed:
        print(f"{path}: tuotu (tuonti {result.import_id}): {counts}.")
    else:
        print(f"{path}: ei muutoksia: {counts}. Mitään ei tallennettu.")
    if result.earlier_import_id is not None:
        print(f"Sama tiedosto on tuotu aiemmin (tuonti {result.earlier_import_id}).")
    if result.paid_off_plan_ids:
        verb = "maksettaisiin" if args.dry_run else "maksettiin"
        print(
            f"Tällä tiedostolla {verb} loppuun {len(result.paid_off_plan_ids)} puhelinta; "
            "työntekijöille kerrotaan, että puhelin on nyt heidän omansa."
        )
    if result.reopened_plan_ids:
        print(
            f"Korjaukset jättivät {len(result.reopened_plan_ids)} jo maksetuksi merkittyyn "
            "puhelimeen maksettavaa: niiden valinnat palautettiin toimitetuiksi. Tarkista ne."
        )
    print(_reconciliation_text(result.reconciliation, "Täsmäytys, tiedoston suunnitelmat"))
    return 0


def _deductions_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.payroll import leavers_report, reconciliation_report
    from bot.i18n import texts

    if not args.leavers:
        lines = asyncio.run(_read(settings, lambda session: reconciliation_report(session=session)))
        print(_reconciliation_text(lines, "Täsmäytys, kaikki suunnitelmat"))
        return 0
    leavers = asyncio.run(_read(settings, lambda session: leavers_report(session=session)))
    if not leavers:
        print("Lähteneillä ei ole maksamattomia vähennyksiä.")
        return 0
    money = texts("fi").money
    print(f"Lähteneet, joilla on maksamatta ({len(leavers)}), loppupalkasta vähennettäväksi:")
    for leaver in leavers:
        last = _period(leaver.last_period) if leaver.last_period else "ei vielä yhtään"
        print(
            f"  {leaver.employee_number or '-'} {leaver.employee_name}, {leaver.model_name}: "
            f"maksamatta {money(leaver.remaining_cents)} (maksettu {money(leaver.paid_cents)} / "
            f"{money(leaver.total_cents)}, viimeisin vähennys {last})"
        )
    print(f"Yhteensä {money(sum(leaver.remaining_cents for leaver in leavers))}.")
    return 0


async def _read(settings: Settings, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One read-only session on the configured database."""
    async with _session(settings) as session:
        return await read(session)


@asynccontextmanager
async def _engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for one command, disposed when the command is done."""
    from bot.db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the command's own engine."""
    from bot.db.engine import create_session_factory

    async with _engine(settings) as engine, create_session_factory(engine)() as session:
        yield session


def _reconciliation_text(lines: Sequence[ReconciliationLine], heading: str) -> str:
    """ICT's plain-text report: one line per period that differs from the schedule."""
    from bot.i18n import texts

    if not lines:
        return f"{heading}: ei poikkeamia."
    money = texts("fi").money
    text = [texts("fi")("admin.discrepancies", heading=heading, count=len(lines))]
    for line in lines:
        text.append(
            f"  {line.employee_number or '-'} {line.employee_name}, {line.model_name}, "
            f"{_period(line.period)}: {DISCREPANCY_KINDS.get(line.kind, line.kind)} "
            f"(odotettu {money(line.expected_cents)}, vähennetty {money(line.posted_cents)})"
        )
    return "\n".join(text)


def _period(month: date) -> str:
    return f"{month.month}/{month.year}"


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.runner import run_demo

    return run_demo(settings, port=args.port, playground=not args.no_playground)


def _choices_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.choices.export import ExportRow, export_rows, write_csv
    from bot.choices.service import mark_all_ordered

    statuses = [status.strip() for status in args.status.split(",") if status.strip()]
    if args.mark_ordered and args.output is None:
        print("phonebot: --mark-ordered needs -o FILE", file=sys.stderr)
        return 2
    staging = args.output.with_name(f".{args.output.name}.partial") if args.output else None

    async def run() -> list[ExportRow]:
        async with _session(settings) as session, session.begin():
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
    from bot.deductions.service import DeliveryError, deliver_choice

    async def run() -> int:
        async with _session(settings) as session, session.begin():
            plans = 0
            for choice_id in args.choice_ids:
                plan = await deliver_choice(
                    session=session, choice_id=choice_id, now=system_clock()
                )
                plans += plan is not None
            return plans

    try:
        plans = asyncio.run(run())
    except DeliveryError as error:
        print(f"phonebot: {error}; mitään ei merkitty toimitetuksi", file=sys.stderr)
        return 1
    print(f"{len(args.choice_ids)} valintaa merkitty toimitetuksi, {plans} vähennyssuunnitelmaa")
    return 0


def _deductions_import_plans(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.plans_import import PlanFileError, import_plans, parse_plan_file

    async def run() -> int:
        plans = parse_plan_file(args.file)
        async with _session(settings) as session:
            transaction = await session.begin()
            try:
                created = await import_plans(session=session, plans=plans, now=system_clock())
            except BaseException:
                await transaction.rollback()
                raise
            await (transaction.rollback() if args.dry_run else transaction.commit())
            return created

    try:
        created = asyncio.run(run())
    except PlanFileError as error:
        print(
            f"{args.file}: suunnitelmia ei tuotu, tietokantaa ei muutettu.\n{error}",
            file=sys.stderr,
        )
        return 1
    verb = "kunnossa (--dry-run, ei tallennettu)" if args.dry_run else "tuotu"
    print(f"{args.file}: {created} vähennyssuunnitelmaa {verb}")
    return 0


def _directory_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.graph.client import GraphError
    from bot.adapters.graph.directory_sync import build_directory_sync
    from bot.db.engine import create_session_factory
    from bot.directory.sync import EmptyDirectory, SyncConflict, SyncReport

    async def run() -> SyncReport:
        async with _engine(settings) as engine:
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


def _rollout_schedule(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rollout.service import WaveError, schedule_wave

    async def run() -> int:
        async with _session(settings) as session, session.begin():
            wave = await schedule_wave(
                session=session,
                name=args.name,
                opens_on=args.opens,
                closes_on=args.closes,
                unit_codes=args.units,
            )
            return wave.id

    try:
        wave_id = asyncio.run(run())
    except WaveError as error:
        print(f"phonebot: aaltoa ei tallennettu: {error}", file=sys.stderr)
        return 1
    print(f"aalto {wave_id} tallennettu: {', '.join(args.units)} {args.opens}–{args.closes}")
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """The background jobs of `serve` on their own, so sending can scale apart from chatting."""
    import signal

    from bot.app import build_components

    _freeze_startup_objects()

    async def run() -> tuple[str, str | None]:
        async with _engine(settings) as engine:
            components = await build_components(settings, engine=engine)
            jobs = components.jobs
            if args.worker_id:
                jobs.dispatcher.worker_id = args.worker_id
            try:
                if args.once:
                    added = await jobs.planner.plan_once()
                    stats = await jobs.dispatcher.run_until_idle()
                    return (
                        f"suunniteltu {added} uutta viestiä; toimitettu {stats.delivered}, "
                        f"uusitaan myöhemmin {stats.retried}, epäonnistui {stats.failed}"
                    ), jobs.dispatcher.configuration_error
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signal_number in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signal_number, stop.set)

                async def stop_when_halted() -> None:
                    await jobs.dispatcher.halted.wait()
                    stop.set()

                watcher = asyncio.create_task(stop_when_halted())
                jobs.start()
                await stop.wait()
                watcher.cancel()
                await jobs.stop()
                return "lähettäjä pysäytetty", jobs.dispatcher.configuration_error
            finally:
                await jobs.stop()
                if components.graph is not None:
                    await components.graph.aclose()
                await components.http.close()

    said, configuration_error = asyncio.run(run())
    print(said)
    if configuration_error is not None:
        print(f"phonebot: asetusvirhe, lähetys pysähtyi: {configuration_error}", file=sys.stderr)
        return 1
    return 0


def _rollout_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.i18n import texts
    from bot.rollout.service import all_waves

    async def run() -> list[str]:
        async with _session(settings) as session:
            t = texts("fi")
            return [
                f"{wave.id}: {wave.name} {t.date(wave.opens_on)}–{t.date(wave.closes_on)}: "
                f"{', '.join(units)}"
                for wave, units in await all_waves(session=session)
            ]

    lines = asyncio.run(run())
    print("\n".join(lines) if lines else "ei aaltoja: kaikki voivat valita heti")
    return 0


def _campaigns_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.i18n import texts
    from bot.notifications.outbox import list_campaigns

    reports = asyncio.run(
        _read(settings, lambda session: list_campaigns(session=session, limit=args.limit))
    )
    if not reports:
        print("ei kampanjoita")
        return 0
    t = texts("fi")
    for report in reports:
        counts = report.counts
        print(
            f"{report.id}: {report.title or report.key} ({report.kind}, {report.state}, "
            f"{t.datetime(report.created_at)}): toimitettu {counts['delivered']}/{report.total}, "
            f"epäonnistui {counts['failed']}, kesken {report.unsettled}"
        )
    return 0


def _tickets_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.tickets.report import ticket_rows, write_csv, write_table
    from bot.tickets.service import STATES

    wanted = [state.strip() for state in args.state.split(",") if state.strip()]
    unknown = [state for state in wanted if state not in (*STATES, "all")]
    if unknown or not wanted:
        print(
            f"phonebot: tuntematon tila {', '.join(unknown)}; valitse {', '.join(STATES)} tai all",
            file=sys.stderr,
        )
        return 2
    states = None if "all" in wanted else wanted
    rows = asyncio.run(_read(settings, lambda session: ticket_rows(session=session, states=states)))
    now = system_clock()
    if args.csv:
        write_csv(rows, sys.stdout, now)
    elif rows:
        write_table(rows, sys.stdout, now)
    else:
        print("ei tukipyyntöjä")
    return 0


def _tickets_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.tickets.report import write_history
    from bot.tickets.service import history, ticket_of

    async def read(session: AsyncSession) -> tuple[Ticket | None, list[TicketEvent]]:
        ticket = await ticket_of(session=session, ticket_id=args.ticket_id)
        return ticket, await history(session=session, ticket_id=args.ticket_id)

    ticket, events = asyncio.run(_read(settings, read))
    if ticket is None:
        print(f"phonebot: tukipyyntöä #{args.ticket_id} ei ole", file=sys.stderr)
        return 1
    write_history(ticket, events, sys.stdout, system_clock())
    return 0


def _campaigns_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.engine import create_session_factory
    from bot.notifications.outbox import campaign_report

    drawing = args.follow and sys.stderr.isatty()

    async def run() -> CampaignReport | None:
        async with _engine(settings) as engine:
            sessions = create_session_factory(engine)
            while True:
                async with sessions() as session:
                    report = await campaign_report(session=session, campaign_id=args.campaign_id)
                if report is None or not args.follow or not report.unsettled:
                    return report
                if drawing:
                    print(f"\r{_progress_bar(report)}", end="", file=sys.stderr, flush=True)
                await asyncio.sleep(args.interval)

    try:
        report = asyncio.run(run())
    finally:
        if drawing:
            print(file=sys.stderr)
    if report is None:
        print(f"phonebot: kampanjaa {args.campaign_id} ei ole", file=sys.stderr)
        return 1
    print(_campaign_text(report))
    return 0


def _campaigns_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from bot.notifications.outbox import OutboxError, cancel_campaign

    async def run() -> int:
        async with _session(settings) as session, session.begin():
            return await cancel_campaign(
                session=session, campaign_id=args.campaign_id, now=system_clock()
            )

    try:
        cancelled = asyncio.run(run())
    except OutboxError as error:
        print(f"phonebot: {error}", file=sys.stderr)
        return 1
    from bot.i18n import texts

    print(texts("fi")("admin.campaign_cancelled", campaign=str(args.campaign_id), count=cancelled))
    return 0


def _campaigns_retry(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import system_clock
    from bot.notifications.outbox import OutboxError, campaign_report, retry_failed

    async def run() -> tuple[int, dict[str, int]]:
        async with _session(settings) as session, session.begin():
            requeued = await retry_failed(
                session=session,
                campaign_id=args.campaign_id,
                reason=args.reason,
                now=system_clock(),
            )
            report = await campaign_report(session=session, campaign_id=args.campaign_id)
            return requeued, report.failures if report else {}

    try:
        requeued, still_failed = asyncio.run(run())
    except OutboxError as error:
        print(f"phonebot: {error}", file=sys.stderr)
        return 1
    which = f" (syy {args.reason})" if args.reason else ""
    print(
        f"kampanja {args.campaign_id}: {requeued} epäonnistunutta viestiä{which} palautettu "
        "jonoon; ne lähetetään työaikana"
    )
    if not requeued and still_failed:
        print(f"epäonnistuneet syyn mukaan: {_counted(still_failed)}")
    return 0


def _campaigns_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.notifications.export import write_recipients_csv

    buffer = io.StringIO()

    async def run() -> int:
        async with _session(settings) as session:
            return await write_recipients_csv(
                session=session, campaign_id=args.campaign_id, stream=buffer
            )

    rows = asyncio.run(run())
    if args.output:
        args.output.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        print(f"{rows} vastaanottajaa kirjoitettu tiedostoon {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def _progress_bar(report: CampaignReport, width: int = 30) -> str:
    """One redrawable line: how much of the campaign is settled, and how."""
    total = report.total or 1
    filled = round(width * report.settled / total)
    counts = report.counts
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {report.settled}/{report.total} "
        f"({100 * report.settled // total} %) toimitettu {counts['delivered']}, "
        f"epäonnistui {counts['failed']}, odottaa {counts['pending']}, "
        f"lähettämässä {counts['sending']}"
    )


def _campaign_text(report: CampaignReport) -> str:
    """ICT's plain-text campaign report."""
    from bot.i18n import texts
    from bot.notifications.outbox import CONFIGURATION, CONNECTOR_DOWN

    t = texts("fi")
    counts = report.counts
    lines = [
        f"Kampanja {report.id}: {report.title or report.key}",
        f"  avain {report.key}, laji {report.kind}, tila {report.state}, "
        f"luotu {t.datetime(report.created_at)} ({report.created_by})",
        f"  vastaanottajia {report.total}: toimitettu {counts['delivered']}, "
        f"epäonnistui {counts['failed']}, odottaa {counts['pending']} "
        f"(uusintayrityksessä {report.retrying}), lähettämässä {counts['sending']}, "
        f"peruttu {counts['cancelled']}",
    ]
    if report.not_before:
        lines.append(f"  ei ennen {t.datetime(report.not_before)}")
    if report.failures:
        lines.append("  epäonnistumisen syyt: " + _counted(report.failures))
    if report.waiting:
        lines.append("  odottavat viimeisen syyn mukaan: " + _counted(report.waiting))
    if CONFIGURATION in report.waiting:
        lines.append(
            "  lähetys pysähtyi asetusvirheeseen: korjaa se lähettäjän lokin ohjeen mukaan ja "
            "käynnistä botti uudelleen; mikään ei ole kadonnut"
        )
    if CONNECTOR_DOWN in report.waiting:
        lines.append(
            "  Teams (Bot Connector) ei vastannut, joten lähetys pidettiin tauolla; se jatkuu "
            "itsestään, kun Teams vastaa taas"
        )
    if report.outcomes:
        lines.append("  toimitustapa: " + _counted(report.outcomes))
    if report.first_sent_at and report.last_sent_at:
        lines.append(
            f"  lähetetty {t.datetime(report.first_sent_at)}–{t.datetime(report.last_sent_at)}"
        )
    return "\n".join(lines)


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {count}" for key, count in sorted(counts.items()))


def _manifest_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import build_package

    path = build_package(settings, args.output)
    print(f"wrote {path}")
    return 0


def _faq_match(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.faq.matcher import default_matcher

    matcher = default_matcher()
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        match = matcher.match(question)
        if args.json:
            print(json.dumps(match.as_json(), ensure_ascii=False), flush=True)
        else:
            print(
                f"{match.band:<7} {match.score:.2f} {match.language} "
                f"{match.topic_id or '-'}: {question}",
                flush=True,
            )
    return 0


def _faq_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.service import feedback_report, unanswered_report
    from bot.i18n import texts

    async def read(session: AsyncSession) -> tuple[list[Unanswered], list[TopicFeedback]]:
        unanswered = await unanswered_report(session=session, limit=args.limit)
        return unanswered, await feedback_report(session=session)

    unanswered, feedback = asyncio.run(_read(settings, read))
    t = texts("fi")
    print("Kysymykset, joihin botti ei osannut vastata (useimmin kysytyt ensin):")
    if not unanswered:
        print("  ei yhtään")
    for item in unanswered:
        shown = "ei vastausta" if item.band == "unknown" else "vain ehdotuksia"
        print(f"  {item.times} × {item.text}  ({shown}, viimeksi {t.datetime(item.last_asked)})")
    print("\nPalaute vastauksista (eniten 👎 ensin):")
    if not feedback:
        print("  ei palautetta")
    for topic in feedback:
        print(f"  {topic.topic_id}: 👍 {topic.helpful}, 👎 {topic.not_helpful}")
    return 0


def _faq_facts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq import facts as program
    from bot.faq.topics import packaged_content
    from bot.i18n import check_fact_texts, texts

    try:
        if args.file:
            facts = program.load_facts(args.file.read_text(encoding="utf-8"))
        else:
            facts = program.program_facts()
        check_fact_texts(facts)
        packaged_content(facts)  # every answer's {fact:key} names a fact
    except (OSError, program.FactsError) as error:
        print(f"phonebot faq facts: {error}", file=sys.stderr)
        return 2
    t = texts("fi")
    confirmed = sum(fact.confirmed for fact in facts.facts)
    print(f"Ohjelman tiedot: {confirmed} vahvistettu, {len(facts.facts) - confirmed} vahvistamatta")
    for fact in facts.facts:
        if fact.confirmed and fact.confirmed_on:
            status = f"vahvistettu: {fact.confirmed_by}, {t.date(fact.confirmed_on)}"
        else:
            status = "vahvistamatta (botti kertoo, että ICT vahvistaa tämän vielä)"
        print(f"\n{fact.key} — {status}")
        for language in program.LANGUAGES:
            print(f"  {language}: {fact.statement[language]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
