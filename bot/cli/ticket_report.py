"""`phonebot tickets list` and `show` as text and CSV, worded from the catalog."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from bot.cli.common import cli_texts
from bot.db.base import as_utc
from bot.spreadsheet import excel_text
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.report import HEADERS, TicketRow, waiting_hours

_OWED = ("pending", "failed")  # an event's note or notification that has not gone


def write_table(rows: list[TicketRow], stream: TextIO, now: datetime) -> None:
    """One line per ticket: state, topic, who asked and who has it, age, and the channel."""
    t = cli_texts()
    for row in rows:
        urgent = t("cli.tickets.urgent") if row.urgent else ""
        assignee = t("cli.tickets.assignee", name=row.assignee) if row.assignee else ""
        stream.write(
            t(
                "cli.tickets.line",
                number=str(row.id),
                state=t(f"tickets.state.{row.state}"),
                urgent=urgent,
                topic=t(f"helpdesk.topic.{row.topic}"),
                requester=row.requester,
                unit=row.unit or "–",
                assignee=assignee,
                created=t.datetime(row.created_at),
                hours=t.number(waiting_hours(row, now), decimals=1),
                channel=_channel(row.on_channel, row.relay_error),
            )
            + "\n"
        )


def write_csv(rows: list[TicketRow], stream: TextIO, now: datetime) -> None:
    """`;`-separated UTF-8 with BOM, as Excel on Finnish Windows opens it."""
    t = cli_texts()
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(
            [
                row.id,
                t(f"tickets.state.{row.state}"),
                t("cli.tickets.flag_yes") if row.urgent else t("cli.tickets.flag_no"),
                t(f"helpdesk.topic.{row.topic}"),
                excel_text(row.unit),
                excel_text(row.requester),
                excel_text(row.assignee),
                t.datetime(row.created_at),
                t.datetime(row.updated_at),
                t.number(waiting_hours(row, now), decimals=1),
                t("cli.tickets.flag_yes") if row.on_channel else t("cli.tickets.flag_no"),
            ]
        )


def write_history(ticket: Ticket, events: list[TicketEvent], stream: TextIO) -> None:
    """One ticket with everything that happened to it, and whether the channel and the
    requester have heard of each step."""
    t = cli_texts()
    stream.write(
        t(
            "cli.tickets.history",
            number=str(ticket.id),
            state=t(f"tickets.state.{ticket.state}"),
            urgent=t("cli.tickets.urgent") if ticket.urgent else "",
            topic=t(f"helpdesk.topic.{ticket.topic}"),
            requester=ticket.requester_name,
            unit=ticket.unit_code or "–",
            language=ticket.requester_language,
            assignee=ticket.assignee_name or "–",
            description=ticket.description,
        )
        + "\n"
    )
    if ticket.asked:
        stream.write(t("cli.tickets.asked", question=ticket.asked) + "\n")
    if ticket.bot_answer:
        stream.write(t("cli.tickets.answered", answer=ticket.bot_answer) + "\n")
    channel = _channel(ticket.card_activity_id is not None, ticket.relay_error)
    stream.write(t("cli.tickets.version", channel=channel, version=str(ticket.version)) + "\n\n")
    stream.write(t("cli.tickets.events") + "\n")
    for event in events:
        owed = [
            t(f"cli.tickets.owed.{where}.{state}")
            for where, state in (("thread", event.note_state), ("requester", event.notify_state))
            if state in _OWED
        ]
        line = t(
            "cli.tickets.event",
            at=t.datetime(as_utc(event.at)),
            kind=t(f"cli.tickets.kind.{event.kind}"),
            actor=event.actor_name or "",
        ).rstrip()
        status = t("cli.tickets.owed_list", owed=", ".join(owed)) if owed else ""
        stream.write(f"{line}{status}\n")
        if event.text:
            stream.write(f"    {event.text}\n")


def _channel(on_channel: bool, relay_error: str | None) -> str:
    t = cli_texts()
    if on_channel:
        return t("cli.tickets.on_channel")
    return t("cli.tickets.not_on_channel", reason=relay_error or t("cli.tickets.queued"))
