"""Recorded phone choices: the web shop's export and marking orders delivered."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path

from bot.cli.common import open_session, refusal_text, say
from bot.clock import system_clock
from bot.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    choices = commands.add_parser("choices", help=say("cli.choices.help.choices")).add_subparsers(
        title=say("cli.help.commands")
    )
    export = choices.add_parser("export", help=say("cli.choices.help.export"))
    export.add_argument(
        "--status",
        default="chosen",
        metavar=say("cli.metavar.states"),
        help=say("cli.choices.help.status"),
    )
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar=say("cli.metavar.file"),
        help=say("cli.choices.help.output"),
    )
    export.add_argument(
        "--mark-ordered", action="store_true", help=say("cli.choices.help.mark_ordered")
    )
    export.set_defaults(run=_choices_export)

    deliver = choices.add_parser("deliver", help=say("cli.choices.help.deliver"))
    deliver.add_argument("choice_ids", type=int, nargs="+", metavar=say("cli.metavar.choice_id"))
    deliver.set_defaults(run=_choices_deliver)


def _choices_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.choices.export import STATUS_LABELS, ExportRow, export_rows, write_csv
    from bot.choices.service import mark_all_ordered
    from bot.privacy.audit import Channel, Use, cli_actor, record_use

    statuses = [status.strip() for status in args.status.split(",") if status.strip()]
    unknown = [status for status in statuses if status not in STATUS_LABELS]
    if unknown:
        known = ", ".join(STATUS_LABELS)
        print(
            say("cli.choices.unknown_status", unknown=", ".join(unknown), statuses=known),
            file=sys.stderr,
        )
        return 2
    if args.mark_ordered and args.output is None:
        print(say("cli.mark_ordered_needs_file"), file=sys.stderr)
        return 2
    staging = args.output.with_name(f".{args.output.name}.partial") if args.output else None

    async def run() -> list[ExportRow]:
        async with open_session(settings) as session, session.begin():
            if args.mark_ordered:
                ids = await mark_all_ordered(session=session, now=system_clock())
                rows = await export_rows(session=session, statuses=["ordered"], choice_ids=ids)
            else:
                rows = await export_rows(session=session, statuses=statuses)
            use = Use(cli_actor(), Channel.CLI, "choices.export", len(rows))
            record_use(session, use, system_clock())
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
            print(say("cli.error", error=str(error)), file=sys.stderr)
            return 2
        raise
    if staging is None:
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(encoding="utf-8", newline="")
        write_csv(rows, sys.stdout)
        return 0
    staging.replace(args.output)
    print(say("cli.choices_written", count=len(rows), path=str(args.output)), file=sys.stderr)
    if args.mark_ordered:
        print(say("cli.choices_marked_ordered", count=len(rows)), file=sys.stderr)
    return 0


def _choices_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deductions.service import DeliveryError, deliver_choice

    async def run() -> int:
        async with open_session(settings) as session, session.begin():
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
        print(say("cli.choices.nothing_delivered", error=refusal_text(error)), file=sys.stderr)
        return 1
    deduction_plans = say("cli.choices.deduction_plans", count=plans)
    print(say("cli.choices.delivered", count=len(args.choice_ids), plans=deduction_plans))
    return 0
