"""How the helpdesk is doing, for ICT's tab: tickets by state, and per week how long people
waited for someone to take their request and for the first answer. No names, only counts and times.

A week is a Monday-to-Sunday week in Pori, and a ticket belongs to the week it was created in.
Waiting is from creation to the first "taken"; the first response is from creation to the first
message the helpdesk sent the requester. A ticket not taken (or not answered) yet is counted in
the week but not in that figure. Percentiles are nearest-rank: p50 is a time that half of the
tickets waited at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import HELSINKI, helsinki_today
from bot.db.base import as_utc
from bot.tickets.models import Ticket, TicketEvent, TicketState
from bot.tickets.service import REPLIED, TAKEN_EVENT


@dataclass(frozen=True)
class TicketCounts:
    open: int = 0
    taken: int = 0
    resolved: int = 0


@dataclass(frozen=True)
class Spread:
    """p50 and p90 of some hours, and how many tickets they are of."""

    count: int
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class WeekFigures:
    monday: date
    tickets: int
    waiting: Spread
    first_response: Spread


@dataclass(frozen=True)
class HelpdeskFigures:
    counts: TicketCounts
    weeks: tuple[WeekFigures, ...]  # the newest week first


def nearest_rank(values: list[float], share: float) -> float | None:
    """The smallest value that at least `share` of the values are at most; None when none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


async def helpdesk_figures(*, session: AsyncSession, now: datetime, weeks: int) -> HelpdeskFigures:
    """Counts of every ticket by state, and the last `weeks` weeks' times, this week first."""
    by_state = dict(
        (await session.execute(select(Ticket.state, func.count()).group_by(Ticket.state))).all()
    )
    counts = TicketCounts(
        open=by_state.get(TicketState.OPEN.value, 0),
        taken=by_state.get(TicketState.TAKEN.value, 0),
        resolved=by_state.get(TicketState.RESOLVED.value, 0),
    )
    this_monday = _monday(helsinki_today(now))
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, datetime.min.time(), HELSINKI).astimezone(UTC)
    created = {
        ticket_id: as_utc(at)
        for ticket_id, at in await session.execute(
            select(Ticket.id, Ticket.created_at).where(Ticket.created_at >= since)
        )
    }
    firsts: dict[tuple[int, str], datetime] = {}
    if created:
        rows = await session.execute(
            select(TicketEvent.ticket_id, TicketEvent.kind, func.min(TicketEvent.at))
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(Ticket.created_at >= since, TicketEvent.kind.in_([TAKEN_EVENT, REPLIED]))
            .group_by(TicketEvent.ticket_id, TicketEvent.kind)
        )
        firsts = {(ticket_id, kind): as_utc(at) for ticket_id, kind, at in rows}
    per_week: dict[date, list[int]] = {}
    for ticket_id, at in created.items():
        per_week.setdefault(_monday(helsinki_today(at)), []).append(ticket_id)
    figures = []
    for index in range(weeks):
        monday = this_monday - timedelta(weeks=index)
        tickets = per_week.get(monday, [])
        figures.append(
            WeekFigures(
                monday,
                len(tickets),
                _spread(tickets, TAKEN_EVENT, created, firsts),
                _spread(tickets, REPLIED, created, firsts),
            )
        )
    return HelpdeskFigures(counts, tuple(figures))


def _spread(
    tickets: list[int],
    kind: str,
    created: dict[int, datetime],
    firsts: dict[tuple[int, str], datetime],
) -> Spread:
    hours = [
        max((firsts[(ticket, kind)] - created[ticket]).total_seconds(), 0) / 3600
        for ticket in tickets
        if (ticket, kind) in firsts
    ]
    return Spread(len(hours), nearest_rank(hours, 0.5), nearest_rank(hours, 0.9))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
