"""Notification campaigns: sending the outbox and watching, stopping or resending a campaign."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import (
    freeze_startup_objects,
    log_use,
    open_engine,
    open_session,
    read_once,
    refusal_text,
    say,
)
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.notifications.outbox import CampaignReport


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    dispatch = commands.add_parser("dispatch", help=say("cli.campaigns.help.dispatch"))
    dispatch.add_argument("--once", action="store_true", help=say("cli.campaigns.help.once"))
    dispatch.add_argument(
        "--worker-id", metavar=say("cli.metavar.name"), help=say("cli.campaigns.help.worker_id")
    )
    dispatch.set_defaults(run=_dispatch)
    campaigns = commands.add_parser(
        "campaigns", help=say("cli.campaigns.help.campaigns")
    ).add_subparsers(title=say("cli.help.commands"))
    campaign_id = say("cli.metavar.id")
    campaigns_list = campaigns.add_parser("list", help=say("cli.campaigns.help.list"))
    campaigns_list.add_argument("--limit", type=int, default=50, metavar=say("cli.metavar.limit"))
    campaigns_list.set_defaults(run=_campaigns_list)
    campaigns_show = campaigns.add_parser("show", help=say("cli.campaigns.help.show"))
    campaigns_show.add_argument("campaign_id", type=int, metavar=campaign_id)
    campaigns_show.add_argument(
        "--follow", action="store_true", help=say("cli.campaigns.help.follow")
    )
    campaigns_show.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    campaigns_show.set_defaults(run=_campaigns_show)
    campaigns_cancel = campaigns.add_parser("cancel", help=say("cli.campaigns.help.cancel"))
    campaigns_cancel.add_argument("campaign_id", type=int, metavar=campaign_id)
    campaigns_cancel.set_defaults(run=_campaigns_cancel)
    campaigns_retry = campaigns.add_parser("retry", help=say("cli.campaigns.help.retry"))
    campaigns_retry.add_argument("campaign_id", type=int, metavar=campaign_id)
    campaigns_retry.add_argument(
        "--reason", metavar=say("cli.metavar.reason"), help=say("cli.campaigns.help.reason")
    )
    campaigns_retry.set_defaults(run=_campaigns_retry)
    campaigns_export = campaigns.add_parser("export", help=say("cli.campaigns.help.export"))
    campaigns_export.add_argument("campaign_id", type=int, metavar=campaign_id)
    campaigns_export.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar=say("cli.metavar.file"),
        help=say("cli.campaigns.help.output"),
    )
    campaigns_export.set_defaults(run=_campaigns_export)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """The background jobs of `serve` on their own, so sending can scale apart from chatting."""
    import signal

    from bot.app import build_components
    from bot.telemetry.providers import start_telemetry
    from bot.telemetry.web import open_metrics_listener

    freeze_startup_objects()

    async def run() -> tuple[str, str | None]:
        async with open_engine(settings) as engine:
            components = await build_components(
                settings, engine=engine, telemetry=start_telemetry(settings)
            )
            freeze_startup_objects()  # and what start-up built (the matcher's ~57 MB) too
            telemetry = components.telemetry
            telemetry.start(components.gauges.sample, settings.metrics_sample_seconds)
            # Not for a one-off run: it ends at once, and may run beside a dispatcher's page.
            metrics = (
                None
                if args.once
                else await open_metrics_listener(
                    telemetry, settings.metrics_host, settings.metrics_port
                )
            )
            jobs = components.jobs
            if args.worker_id:
                jobs.dispatcher.worker_id = args.worker_id
            try:
                if args.once:
                    added = await jobs.planner.plan_once()
                    stats = await jobs.dispatcher.run_until_idle()
                    planned = say(
                        "cli.campaigns.planned",
                        count=added,
                        delivered=stats.delivered,
                        retried=stats.retried,
                        failed=stats.failed,
                    )
                    return planned, jobs.dispatcher.configuration_error
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
                return say("cli.campaigns.stopped"), jobs.dispatcher.configuration_error
            finally:
                await jobs.stop()
                if metrics is not None:
                    await metrics.cleanup()
                await telemetry.shutdown()
                if components.graph is not None:
                    await components.graph.aclose()
                await components.http.close()

    said, configuration_error = asyncio.run(run())
    print(said)
    if configuration_error is not None:
        print(say("cli.campaigns.halted", error=configuration_error), file=sys.stderr)
        return 1
    return 0


def _campaigns_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.notifications.outbox import list_campaigns

    reports = asyncio.run(
        read_once(settings, lambda session: list_campaigns(session=session, limit=args.limit))
    )
    if not reports:
        print(say("cli.campaigns.none"))
        return 0
    t = cli_texts()
    for report in reports:
        counts = report.counts
        print(
            say(
                "cli.campaigns.list_line",
                campaign=str(report.id),
                title=report.title or report.key,
                kind=report.kind,
                state=report.state,
                created=t.datetime(report.created_at),
                delivered=counts["delivered"],
                total=report.total,
                failed=counts["failed"],
                unsettled=report.unsettled,
            )
        )
    return 0


def _campaigns_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.engine import create_session_factory
    from bot.notifications.outbox import campaign_report

    drawing = args.follow and sys.stderr.isatty()

    async def run() -> CampaignReport | None:
        async with open_engine(settings) as engine:
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
        print(say("cli.campaigns.not_found", campaign=str(args.campaign_id)), file=sys.stderr)
        return 1
    print(_campaign_text(report))
    return 0


def _campaigns_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from bot.notifications.outbox import OutboxError, cancel_campaign

    async def run() -> int:
        async with open_session(settings) as session, session.begin():
            return await cancel_campaign(
                session=session, campaign_id=args.campaign_id, now=system_clock()
            )

    try:
        cancelled = asyncio.run(run())
    except OutboxError as error:
        print(say("cli.error", error=refusal_text(error)), file=sys.stderr)
        return 1
    print(say("admin.campaign_cancelled", campaign=str(args.campaign_id), count=cancelled))
    return 0


def _campaigns_retry(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import system_clock
    from bot.notifications.outbox import OutboxError, campaign_report, retry_failed

    async def run() -> tuple[int, dict[str, int]]:
        async with open_session(settings) as session, session.begin():
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
        print(say("cli.error", error=refusal_text(error)), file=sys.stderr)
        return 1
    campaign = str(args.campaign_id)
    if args.reason:
        print(
            say(
                "cli.campaigns.requeued_for_reason",
                campaign=campaign,
                count=requeued,
                reason=args.reason,
            )
        )
    else:
        print(say("cli.campaigns.requeued", campaign=campaign, count=requeued))
    if not requeued and still_failed:
        print(say("cli.campaigns.still_failed", counts=_counted(still_failed)))
    return 0


def _campaigns_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.notifications.export import write_recipients_csv

    buffer = io.StringIO()

    async def run() -> int:
        async with open_session(settings) as session:
            return await write_recipients_csv(
                session=session, campaign_id=args.campaign_id, stream=buffer
            )

    rows = asyncio.run(run())
    log_use(settings, "campaigns.export", rows)
    if args.output:
        args.output.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        print(say("cli.campaigns.exported", count=rows, path=str(args.output)), file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def _progress_bar(report: CampaignReport, width: int = 30) -> str:
    """One redrawable line: how much of the campaign is settled, and how."""
    total = report.total or 1
    filled = round(width * report.settled / total)
    counts = report.counts
    return say(
        "cli.campaigns.progress",
        bar="#" * filled + "." * (width - filled),
        settled=report.settled,
        total=report.total,
        percent=100 * report.settled // total,
        delivered=counts["delivered"],
        failed=counts["failed"],
        pending=counts["pending"],
        sending=counts["sending"],
    )


def _campaign_text(report: CampaignReport) -> str:
    """ICT's plain-text campaign report: a heading, then indented details."""
    from bot.cli.common import cli_texts
    from bot.notifications.outbox import CONFIGURATION, CONNECTOR_DOWN

    t = cli_texts()
    counts = report.counts
    details = [
        say(
            "cli.campaigns.report.details",
            campaign_key=report.key,
            kind=report.kind,
            state=report.state,
            created=t.datetime(report.created_at),
            created_by=report.created_by,
        ),
        say(
            "cli.campaigns.report.counts",
            total=report.total,
            delivered=counts["delivered"],
            failed=counts["failed"],
            pending=counts["pending"],
            retrying=report.retrying,
            sending=counts["sending"],
            cancelled=counts["cancelled"],
        ),
    ]
    if report.not_before:
        details.append(say("cli.campaigns.report.not_before", when=t.datetime(report.not_before)))
    if report.failures:
        details.append(say("cli.campaigns.report.failures", counts=_counted(report.failures)))
    if report.waiting:
        details.append(say("cli.campaigns.report.waiting", counts=_counted(report.waiting)))
    if CONFIGURATION in report.waiting:
        details.append(say("cli.campaigns.report.configuration"))
    if CONNECTOR_DOWN in report.waiting:
        details.append(say("cli.campaigns.report.connector_down"))
    if report.outcomes:
        details.append(say("cli.campaigns.report.outcomes", counts=_counted(report.outcomes)))
    if report.first_sent_at and report.last_sent_at:
        details.append(
            say(
                "cli.campaigns.report.sent",
                first=t.datetime(report.first_sent_at),
                last=t.datetime(report.last_sent_at),
            )
        )
    heading = say(
        "cli.campaigns.report.heading", campaign=str(report.id), title=report.title or report.key
    )
    return "\n".join([heading, *(f"  {line}" for line in details)])


def _counted(counts: dict[str, int]) -> str:
    """Reasons or outcomes with their counts, as `blocked 1, server_error 2`."""
    return ", ".join(f"{key} {count}" for key, count in sorted(counts.items()))
