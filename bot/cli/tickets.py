"""Helpdesk tickets for reporting."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.common import log_use, read_once, say
from bot.clock import system_clock
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.tickets.models import Ticket, TicketEvent


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Its commands, with the handlers below."""
    tickets = commands.add_parser("tickets", help=say("cli.tickets.help.tickets")).add_subparsers(
        title=say("cli.help.commands")
    )
    tickets_list = tickets.add_parser("list", help=say("cli.tickets.help.list"))
    tickets_list.add_argument(
        "--state",
        default="open,taken",
        metavar=say("cli.metavar.states"),
        help=say("cli.tickets.help.state"),
    )
    tickets_list.add_argument("--csv", action="store_true", help=say("cli.tickets.help.csv"))
    tickets_list.set_defaults(run=_tickets_list)
    tickets_show = tickets.add_parser("show", help=say("cli.tickets.help.show"))
    tickets_show.add_argument("ticket_id", type=int, metavar=say("cli.metavar.ticket"))
    tickets_show.set_defaults(run=_tickets_show)


def _tickets_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.ticket_report import write_csv, write_table
    from bot.tickets.report import ticket_rows
    from bot.tickets.service import STATES

    wanted = [state.strip() for state in args.state.split(",") if state.strip()]
    unknown = [state for state in wanted if state not in (*STATES, "all")]
    if unknown or not wanted:
        choices = ", ".join(STATES)
        print(
            say("cli.tickets.unknown_state", unknown=", ".join(unknown), states=choices),
            file=sys.stderr,
        )
        return 2
    states = None if "all" in wanted else wanted
    rows = asyncio.run(
        read_once(settings, lambda session: ticket_rows(session=session, states=states))
    )
    log_use(settings, "tickets.list", len(rows))
    now = system_clock()
    if args.csv:
        write_csv(rows, sys.stdout, now)
    elif rows:
        write_table(rows, sys.stdout, now)
    else:
        print(say("cli.tickets.none"))
    return 0


def _tickets_show(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.ticket_report import write_history
    from bot.tickets.service import history, ticket_of

    async def read(session: AsyncSession) -> tuple[Ticket | None, list[TicketEvent]]:
        ticket = await ticket_of(session=session, ticket_id=args.ticket_id)
        return ticket, await history(session=session, ticket_id=args.ticket_id)

    ticket, events = asyncio.run(read_once(settings, read))
    if ticket is None:
        print(say("cli.tickets.not_found", ticket=str(args.ticket_id)), file=sys.stderr)
        return 1
    log_use(settings, "tickets.show", len(events) + 1, ticket.requester_aad)
    write_history(ticket, events, sys.stdout)
    return 0
