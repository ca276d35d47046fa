"""Notification campaigns: sending the outbox and watching, stopping or resending a campaign."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import freeze_startup_objects, open_engine, open_session, read_once
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.notifications.outbox import CampaignReport


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    dispatch = commands.add_parser(
        "dispatch",
        help="plan rollout notifications and send the outbox (and sync the directory), no HTTP",
    )
    dispatch.add_argument(
        "--once", action="store_true", help="plan, send all that may be sent now, then exit"
    )
    dispatch.add_argument("--worker-id", help="name in the outbox's claims (default host:pid)")
    dispatch.set_defaults(run=_dispatch)
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


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """The background jobs of `serve` on their own, so sending can scale apart from chatting."""
    import signal

    from bot.app import build_components

    freeze_startup_objects()

    async def run() -> tuple[str, str | None]:
        async with open_engine(settings) as engine:
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


def _campaigns_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.common import cli_texts
    from bot.notifications.outbox import list_campaigns

    reports = asyncio.run(
        read_once(settings, lambda session: list_campaigns(session=session, limit=args.limit))
    )
    if not reports:
        print("ei kampanjoita")
        return 0
    t = cli_texts()
    for report in reports:
        counts = report.counts
        print(
            f"{report.id}: {report.title or report.key} ({report.kind}, {report.state}, "
            f"{t.datetime(report.created_at)}): toimitettu {counts['delivered']}/{report.total}, "
            f"epäonnistui {counts['failed']}, kesken {report.unsettled}"
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
        print(f"phonebot: kampanjaa {args.campaign_id} ei ole", file=sys.stderr)
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
        print(f"phonebot: {error}", file=sys.stderr)
        return 1
    from bot.cli.common import say

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
        async with open_session(settings) as session:
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
    from bot.cli.common import cli_texts
    from bot.notifications.outbox import CONFIGURATION, CONNECTOR_DOWN

    t = cli_texts()
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
