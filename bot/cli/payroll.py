"""Payroll's deduction files and the deduction reports ICT sends back."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import open_session, read_once
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.deductions.payroll.report import ReconciliationLine


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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
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


def _payroll_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.payroll.parse import PayrollColumns, PayrollFileError, parse_payroll_file
    from bot.deductions.payroll.post import PayrollResult, import_payroll

    path: Path = args.file
    columns = PayrollColumns(args.employee_column, args.period_column, args.amount_column)

    async def run() -> PayrollResult:
        payroll_file = parse_payroll_file(path, columns)
        async with open_session(settings) as session:
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
    from bot.cli.common import cli_texts
    from bot.deductions.payroll.report import leavers_report, reconciliation_report

    if not args.leavers:
        lines = asyncio.run(
            read_once(settings, lambda session: reconciliation_report(session=session))
        )
        print(_reconciliation_text(lines, "Täsmäytys, kaikki suunnitelmat"))
        return 0
    leavers = asyncio.run(read_once(settings, lambda session: leavers_report(session=session)))
    if not leavers:
        print("Lähteneillä ei ole maksamattomia vähennyksiä.")
        return 0
    money = cli_texts().money
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


def _reconciliation_text(lines: Sequence[ReconciliationLine], heading: str) -> str:
    """ICT's plain-text report: one line per period that differs from the schedule."""
    from bot.cli.common import cli_texts

    if not lines:
        return f"{heading}: ei poikkeamia."
    money = cli_texts().money
    text = [cli_texts()("admin.discrepancies", heading=heading, count=len(lines))]
    for line in lines:
        text.append(
            f"  {line.employee_number or '-'} {line.employee_name}, {line.model_name}, "
            f"{_period(line.period)}: {DISCREPANCY_KINDS.get(line.kind, line.kind)} "
            f"(odotettu {money(line.expected_cents)}, vähennetty {money(line.posted_cents)})"
        )
    return "\n".join(text)


def _period(month: date) -> str:
    return f"{month.month}/{month.year}"


def _deductions_import_plans(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.plans_import import PlanFileError, import_plans, parse_plan_file

    async def run() -> int:
        plans = parse_plan_file(args.file)
        async with open_session(settings) as session:
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
