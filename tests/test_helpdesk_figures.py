"""The helpdesk's figures for ICT's tab on SQLite and PostgreSQL: weeks in Pori, nearest rank."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.db.engine import create_session_factory
from bot.ict.helpdesk_figures import Spread, TicketCounts, helpdesk_figures, nearest_rank
from tests.support.tickets import add_ticket

NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # Wednesday; this week began on Monday 8 February


def test_nearest_rank_is_a_value_that_share_of_them_are_at_most():
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([3.0], 0.9) == 3.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0


async def test_counts_by_state_and_times_per_week(engine):
    monday = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
    for hours in (1, 2, 3, 4):
        await add_ticket(
            engine,
            monday,
            taken_after=timedelta(hours=hours),
            replied_after=timedelta(hours=2 * hours),
        )
    await add_ticket(engine, monday, "open")  # not taken: in the week, not in its times
    await add_ticket(engine, monday, "taken", taken_after=timedelta(minutes=30))
    async with create_session_factory(engine)() as session:
        figures = await helpdesk_figures(session=session, now=NOW, weeks=3)

    assert figures.counts == TicketCounts(open=1, taken=1, resolved=4)
    this_week, last_week, before = figures.weeks
    assert [week.monday for week in figures.weeks] == [
        date(2027, 2, 8),
        date(2027, 2, 1),
        date(2027, 1, 25),
    ]
    assert this_week.tickets == 6
    assert this_week.waiting == Spread(5, 2.0, 4.0)
    assert this_week.first_response == Spread(4, 4.0, 8.0)
    assert last_week.tickets == before.tickets == 0
    assert last_week.waiting == Spread(0, None, None)


async def test_a_week_begins_at_midnight_in_pori_not_in_utc(engine):
    # Sunday 7 Feb 23:30 in Pori is 21:30 UTC; Monday 8 Feb 00:30 in Pori is Sunday 22:30 UTC.
    await add_ticket(
        engine, datetime(2027, 2, 7, 21, 30, tzinfo=UTC), taken_after=timedelta(hours=1)
    )
    await add_ticket(
        engine, datetime(2027, 2, 7, 22, 30, tzinfo=UTC), taken_after=timedelta(hours=5)
    )
    # Older than the weeks shown: counted by state, not in any week.
    await add_ticket(engine, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    async with create_session_factory(engine)() as session:
        figures = await helpdesk_figures(session=session, now=NOW, weeks=2)

    this_week, last_week = figures.weeks
    assert (this_week.tickets, this_week.waiting.p50) == (1, 5.0)
    assert (last_week.tickets, last_week.waiting.p50) == (1, 1.0)
    assert figures.counts.resolved == 3
