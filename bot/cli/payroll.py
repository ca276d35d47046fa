"""Payroll's deduction files and the deduction reports ICT sends back."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import log_use, open_session, read_once, say
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.deductions.payroll.post import PayrollResult
    from bot.deductions.payroll.report import ReconciliationLine


# The reconciliation's kinds of discrepancy, each told in words by `cli.payroll.discrepancy.*`.
DISCREPANCY_KINDS = frozenset({"missed", "wrong_amount", "after_paid_off"})


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    payroll = commands.add_parser("payroll", help=say("cli.payroll.help.payroll")).add_subparsers(
        title=say("cli.help.commands")
    )
    payroll_import = payroll.add_parser(
        "import", help=say("cli.payroll.help.import"), epilog=say("cli.payroll.help.format")
    )
    payroll_import.add_argument("file", type=Path, metavar=say("cli.metavar.file"))
    payroll_import.add_argument(
        "--dry-run", action="store_true", help=say("cli.payroll.help.dry_run")
    )
    column = say("cli.metavar.column")
    payroll_import.add_argument("--employee-column", default="henkilonumero", metavar=column)
    payroll_import.add_argument("--period-column", default="palkkakausi", metavar=column)
    payroll_import.add_argument("--amount-column", default="summa", metavar=column)
    payroll_import.set_defaults(run=_payroll_import)
    deductions = commands.add_parser(
        "deductions", help=say("cli.payroll.help.deductions")
    ).add_subparsers(title=say("cli.help.commands"))
    report = deductions.add_parser("report", help=say("cli.payroll.help.report"))
    report.add_argument("--leavers", action="store_true", help=say("cli.payroll.help.leavers"))
    report.set_defaults(run=_deductions_report)
    import_plans = deductions.add_parser("import-plans", help=say("cli.payroll.help.import_plans"))
    import_plans.add_argument("file", type=Path, metavar=say("cli.metavar.file"))
    import_plans.add_argument(
        "--dry-run", action="store_true", help=say("cli.payroll.help.plans_dry_run")
    )
    import_plans.set_defaults(run=_deductions_import_plans)


def _payroll_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.deductions.payroll.parse import PayrollColumns, PayrollFileError, parse_payroll_file
    from bot.deductions.payroll.post import import_payroll

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
            say(
                "cli.payroll.not_imported",
                path=str(path),
                problems=len(error.problems),
                error=error.worded(cli_texts()),
            ),
            file=sys.stderr,
        )
        return 1
    counts = _row_counts(result)
    if args.dry_run:
        print(say("cli.payroll.checked", path=str(path), counts=counts))
    elif result.changed:
        imported = str(result.import_id)
        print(say("cli.payroll.imported", path=str(path), import_id=imported, counts=counts))
    else:
        print(say("cli.payroll.no_changes", path=str(path), counts=counts))
    if result.earlier_import_id is not None:
        print(say("cli.payroll.imported_before", import_id=str(result.earlier_import_id)))
    if result.paid_off_plan_ids:
        paid_off = "cli.payroll.would_pay_off" if args.dry_run else "cli.payroll.paid_off"
        print(say(paid_off, count=len(result.paid_off_plan_ids)))
    if result.reopened_plan_ids:
        print(say("cli.payroll.reopened", count=len(result.reopened_plan_ids)))
    heading = say("cli.payroll.reconciliation_file")
    log_use(settings, "payroll.import", result.rows)  # the reconciliation names people
    print(_reconciliation_text(result.reconciliation, heading))
    return 0


def _row_counts(result: PayrollResult) -> str:
    """How many rows the file had, and how many of them were new, corrected or unchanged."""
    return say(
        "cli.payroll.row_counts",
        rows=say("cli.payroll.rows", count=result.rows),
        added=say("cli.payroll.added", count=result.added),
        corrected=say("cli.payroll.corrected", count=result.corrected),
        unchanged=say("cli.payroll.unchanged", count=result.unchanged),
    )


def _deductions_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.deductions.payroll.report import leavers_report, reconciliation_report

    if not args.leavers:
        lines = asyncio.run(
            read_once(settings, lambda session: reconciliation_report(session=session))
        )
        log_use(settings, "payroll.reconciliation", len(lines))
        print(_reconciliation_text(lines, say("cli.payroll.reconciliation_all")))
        return 0
    leavers = asyncio.run(read_once(settings, lambda session: leavers_report(session=session)))
    if not leavers:
        print(say("cli.payroll.no_leavers"))
        return 0
    log_use(settings, "payroll.leavers", len(leavers))
    money = cli_texts().money
    print(say("cli.payroll.leavers_heading", leavers=len(leavers)))
    for leaver in leavers:
        last = (
            _period(leaver.last_period)
            if leaver.last_period
            else say("cli.payroll.no_deduction_yet")
        )
        line = say(
            "cli.payroll.leaver_line",
            employee=leaver.employee_number or "-",
            name=leaver.employee_name,
            model=leaver.model_name,
            remaining=money(leaver.remaining_cents),
            paid=money(leaver.paid_cents),
            total=money(leaver.total_cents),
            last=last,
        )
        print(f"  {line}")
    total = money(sum(leaver.remaining_cents for leaver in leavers))
    print(say("cli.payroll.leavers_total", amount=total))
    return 0


def _reconciliation_text(lines: Sequence[ReconciliationLine], heading: str) -> str:
    """ICT's plain-text report: one line per period that differs from the schedule."""
    from bot.cli.common import cli_texts

    if not lines:
        return say("cli.payroll.no_discrepancies", heading=heading)
    money = cli_texts().money
    text = [say("admin.discrepancies", heading=heading, count=len(lines))]
    for line in lines:
        kind = (
            say(f"cli.payroll.discrepancy.{line.kind}")
            if line.kind in DISCREPANCY_KINDS
            else line.kind
        )
        said = say(
            "cli.payroll.discrepancy_line",
            employee=line.employee_number or "-",
            name=line.employee_name,
            model=line.model_name,
            period=_period(line.period),
            kind=kind,
            expected=money(line.expected_cents),
            posted=money(line.posted_cents),
        )
        text.append(f"  {said}")
    return "\n".join(text)


def _period(month: date) -> str:
    return f"{month.month}/{month.year}"


def _deductions_import_plans(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
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
            say(
                "cli.payroll.plans_not_imported",
                path=str(args.file),
                error=error.worded(cli_texts()),
            ),
            file=sys.stderr,
        )
        return 1
    done = "cli.payroll.plans_checked" if args.dry_run else "cli.payroll.plans_imported"
    print(say(done, path=str(args.file), count=created))
    return 0
