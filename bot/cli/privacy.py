"""Data protection for ICT: a person's copy, retention, the purge, the records of processing and
the audit log. Every command that shows people writes its audit row before it shows them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot.cli.common import cli_texts, log_use, open_engine, read_once, say
from bot.clock import system_clock
from bot.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    privacy = commands.add_parser("privacy", help=say("privacy.cli.help.privacy")).add_subparsers(
        title=say("cli.help.commands")
    )
    export = privacy.add_parser("export", help=say("privacy.cli.help.export"))
    export.add_argument("employee", help=say("privacy.cli.help.employee"))
    export.add_argument("-o", "--output", type=Path, help=say("privacy.cli.help.output"))
    export.set_defaults(run=_export)
    retention = privacy.add_parser("retention", help=say("privacy.cli.help.retention"))
    retention.set_defaults(run=_retention)
    purge = privacy.add_parser("purge", help=say("privacy.cli.help.purge"))
    purge.add_argument("--dry-run", action="store_true", help=say("privacy.cli.help.dry_run"))
    purge.set_defaults(run=_purge)
    records = privacy.add_parser("records", help=say("privacy.cli.help.records"))
    records.add_argument("-o", "--output", type=Path, help=say("privacy.cli.help.output"))
    records.set_defaults(run=_records)
    audit = commands.add_parser("audit", help=say("privacy.cli.help.audit")).add_subparsers(
        title=say("cli.help.commands")
    )
    audit_list = audit.add_parser("list", help=say("privacy.cli.help.audit_list"))
    audit_list.add_argument("--since", help=say("privacy.cli.help.since"))
    audit_list.add_argument("--who", help=say("privacy.cli.help.who"))
    audit_list.set_defaults(run=_audit_list)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.engine import create_session_factory
    from bot.privacy.audit import Channel, Use, cli_actor
    from bot.privacy.service import copy_for, find_person

    async def run() -> tuple[dict[str, object], int] | None:
        async with open_engine(settings) as engine:
            sessions = create_session_factory(engine)
            async with sessions() as session:
                person = await find_person(session=session, key=args.employee)
            if person is None:
                return None
            use = Use(cli_actor(), Channel.CLI, "privacy.export")
            copy = await copy_for(sessions, person=person, use=use, now=system_clock())
            return copy.as_json(), copy.rows

    found = asyncio.run(run())
    if found is None:
        print(say("privacy.cli.unknown_employee", employee=args.employee), file=sys.stderr)
        return 1
    copy, rows = found
    text = json.dumps(copy, ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(say("privacy.cli.export_written", path=str(args.output), rows=rows))
    return 0


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    from bot.privacy.inventory import HOLDINGS
    from bot.privacy.policy import RetentionPolicy
    from bot.privacy.service import retention_words

    words = cli_texts()
    policy = RetentionPolicy.from_settings(settings)
    print(say("privacy.cli.retention_header"))
    for holding in HOLDINGS:
        if holding.personal:
            kind = words(f"privacy.kind.{holding.kind}.name")
            print(f"{holding.table} | {kind} | {retention_words(words, policy, holding.rule)}")
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.engine import create_session_factory
    from bot.privacy.policy import RetentionPolicy
    from bot.privacy.purge import Purge, PurgeReport

    async def run() -> PurgeReport:
        async with open_engine(settings) as engine:
            purge = Purge(create_session_factory(engine), RetentionPolicy.from_settings(settings))
            return await purge.run(system_clock(), dry_run=args.dry_run)

    report = asyncio.run(run())
    words = cli_texts()
    when = words.datetime(system_clock())
    header = "privacy.cli.purge_dry_header" if report.dry_run else "privacy.cli.purge_header"
    print(words(header, when=when))
    for what, count in report.counts.items():
        print(words("privacy.cli.purge_line", what=words(f"privacy.step.{what}"), number=count))
    print(words("privacy.cli.purge_total", count=report.total))
    return 0


def _records(args: argparse.Namespace, settings: Settings) -> int:
    from bot.privacy.policy import RetentionPolicy
    from bot.privacy.service import records_of_processing

    text = records_of_processing(cli_texts(), RetentionPolicy.from_settings(settings))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(say("privacy.cli.records_written", path=str(args.output)))
    return 0


def _audit_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.base import as_utc
    from bot.privacy.audit import uses

    since = None
    if args.since:
        try:
            since = datetime.combine(date.fromisoformat(args.since), time(), tzinfo=UTC)
        except ValueError:
            print(say("privacy.cli.bad_date", value=args.since), file=sys.stderr)
            return 2
    events = asyncio.run(
        read_once(settings, lambda session: uses(session=session, since=since, actor=args.who))
    )
    if not events:
        print(say("privacy.cli.audit_none"))
        return 0
    log_use(settings, "audit.list", len(events))  # who read who used whose data
    words = cli_texts()
    for event in events:
        print(
            words(
                "privacy.cli.audit_line",
                at=words.datetime(as_utc(event.at)),
                actor=event.actor,
                channel=event.channel,
                action=event.action,
                subject=event.subject or "-",
                rows=event.rows,
                outcome=event.outcome,
            )
        )
    return 0
