"""ICT's rollout figures on SQLite and PostgreSQL: what the tab's progress page is made from."""

from __future__ import annotations

from datetime import date

from bot.db.engine import create_session_factory
from bot.ict.progress import DayCount, Tally, Waiting, not_chosen, rollout_progress
from tests.support.rollout import NOW, scripted_rollout


async def test_each_unit_counts_its_people_and_their_open_choices(engine):
    await scripted_rollout(engine)
    async with create_session_factory(engine)() as session:
        progress = await rollout_progress(session=session, now=NOW)

    assert progress.today == date(2027, 2, 3)
    february, march = progress.waves
    assert [unit.code for unit in february.units] == ["A", "B"]
    unit_a, unit_b = february.units
    # a-left and a-off are not counted; a3's changed and a4's cancelled choices are not open.
    assert unit_a.tally == Tally(employees=4, free_choice=2, pori_phone=1, ordered=2, delivered=1)
    assert unit_a.tally.not_yet == 1
    assert unit_b.tally == Tally(employees=1)
    assert february.tally == Tally(employees=5, free_choice=2, pori_phone=1, ordered=2, delivered=1)
    assert february.state(progress.today) == "open"
    assert march.state(progress.today) == "upcoming"
    assert march.units[0].tally == Tally(employees=1, pori_phone=1)


async def test_choices_per_day_run_from_the_window_opening_to_today_in_pori(engine):
    await scripted_rollout(engine)
    async with create_session_factory(engine)() as session:
        progress = await rollout_progress(session=session, now=NOW)

    february, march = progress.waves
    assert february.days == (
        DayCount(date(2027, 2, 1), 1, 1),
        DayCount(date(2027, 2, 2), 2, 3),
        DayCount(date(2027, 2, 3), 0, 3),
    )
    assert march.days == ()  # not open yet


async def test_a_units_list_of_who_has_not_chosen(engine):
    await scripted_rollout(engine)
    async with create_session_factory(engine)() as session:
        assert await not_chosen(session=session, unit_code="A") == [
            Waiting("Dan Dahl", "a4@pori.fi", None)
        ]
        assert await not_chosen(session=session, unit_code="C") == []
        assert await not_chosen(session=session, unit_code="EI-OLE") is None


async def test_no_waves_no_rows(engine):
    async with create_session_factory(engine)() as session:
        progress = await rollout_progress(session=session, now=NOW)
    assert progress.waves == ()
