"""Tickets for reporting: `phonebot tickets list` as a table or as CSV for Excel."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import as_utc
from bot.directory.models import Unit
from bot.i18n import texts
from bot.spreadsheet import excel_text
from bot.tickets.models import Ticket, TicketEvent

_OWED = {"pending": "odottaa", "failed": "ei tavoitettu"}
HEADERS = (
    "numero",
    "tila",
    "kiireellinen",
    "aihe",
    "yksikkö",
    "pyytäjä",
    "hoitaja",
    "luotu",
    "päivitetty",
    "odottanut_h",
    "kanavalla",
)


@dataclass(frozen=True)
class TicketRow:
    id: int
    state: str
    urgent: bool
    topic: str
    unit: str | None
    requester: str
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    on_channel: bool
    relay_error: str | None


async def ticket_rows(*, session: AsyncSession, states: Iterable[str] | None) -> list[TicketRow]:
    """Oldest first, as a queue is worked through."""
    query = (
        select(Ticket, Unit.name_fi)
        .outerjoin(Unit, Unit.code == Ticket.unit_code)
        .order_by(Ticket.id)
    )
    if states is not None:
        query = query.where(Ticket.state.in_(list(states)))
    return [
        TicketRow(
            id=ticket.id,
            state=ticket.state,
            urgent=ticket.urgent,
            topic=ticket.topic,
            unit=unit_name or ticket.unit_code,
            requester=ticket.requester_name,
            assignee=ticket.assignee_name,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            on_channel=ticket.card_activity_id is not None,
            relay_error=ticket.relay_error,
        )
        for ticket, unit_name in (await session.execute(query)).all()
    ]


def waiting_hours(row: TicketRow, now: datetime) -> float:
    return round((now - as_utc(row.created_at)).total_seconds() / 3600, 1)


def write_table(rows: list[TicketRow], stream: TextIO, now: datetime) -> None:
    t = texts("fi")
    for row in rows:
        urgent = " KIIREELLINEN" if row.urgent else ""
        assignee = f", hoitaa {row.assignee}" if row.assignee else ""
        channel = (
            "kanavalla"
            if row.on_channel
            else f"ei vielä kanavalla ({row.relay_error or 'jonossa'})"
        )
        stream.write(
            f"#{row.id} {t(f'tickets.state.{row.state}')}{urgent}: "
            f"{t(f'helpdesk.topic.{row.topic}')}, {row.requester} ({row.unit or '–'}){assignee}; "
            f"luotu {t.datetime(row.created_at)}, odottanut {waiting_hours(row, now)} h; "
            f"{channel}\n"
        )


def write_csv(rows: list[TicketRow], stream: TextIO, now: datetime) -> None:
    """`;`-separated UTF-8 with BOM, as Excel on Finnish Windows opens it."""
    t = texts("fi")
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(
            [
                row.id,
                t(f"tickets.state.{row.state}"),
                "kyllä" if row.urgent else "ei",
                t(f"helpdesk.topic.{row.topic}"),
                excel_text(row.unit),
                excel_text(row.requester),
                excel_text(row.assignee),
                t.datetime(row.created_at),
                t.datetime(row.updated_at),
                str(waiting_hours(row, now)).replace(".", ","),
                "kyllä" if row.on_channel else "ei",
            ]
        )


def write_history(ticket: Ticket, events: list[TicketEvent], stream: TextIO, now: datetime) -> None:
    """One ticket with everything that happened to it, and whether the channel and the
    requester have heard of each step."""
    t = texts("fi")
    urgent = " KIIREELLINEN" if ticket.urgent else ""
    stream.write(
        f"#{ticket.id} {t(f'tickets.state.{ticket.state}')}{urgent}: "
        f"{t(f'helpdesk.topic.{ticket.topic}')}\n"
        f"pyytäjä: {ticket.requester_name} ({ticket.unit_code or '–'}), "
        f"kieli {ticket.requester_language}\n"
        f"hoitaa: {ticket.assignee_name or '–'}\n"
        f"kuvaus: {ticket.description}\n"
    )
    if ticket.asked:
        stream.write(f"kysyi botilta: {ticket.asked}\n")
    if ticket.bot_answer:
        stream.write(f"botti vastasi: {ticket.bot_answer}\n")
    channel = (
        "kanavalla"
        if ticket.card_activity_id
        else f"ei vielä kanavalla ({ticket.relay_error or 'jonossa'})"
    )
    stream.write(f"{channel}; versio {ticket.version}\n\nhistoria:\n")
    for event in events:
        owed = [
            f"{where}: {_OWED[state]}"
            for where, state in (("ketjuun", event.note_state), ("pyytäjälle", event.notify_state))
            if state in _OWED
        ]
        status = f" [{', '.join(owed)}]" if owed else ""
        line = f"  {t.datetime(as_utc(event.at))} {event.kind} {event.actor_name or ''}".rstrip()
        stream.write(f"{line}{status}\n")
        if event.text:
            stream.write(f"    {event.text}\n")
