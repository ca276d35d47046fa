"""ICT's rollout figures on SQLite and PostgreSQL: what the tab's progress page is made from."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.db.engine import create_session_factory
from bot.directory.models import Employee, Unit
from bot.ict.progress import DayCount, Tally, Waiting, not_chosen, rollout_progress
from bot.rollout.models import RolloutWave, RolloutWaveUnit

NOW = datetime(2027, 2, 3, 10, 0, tzinfo=UTC)  # Wednesday 3 February in Pori


async def _rollout(engine) -> None:
    """Two waves: A and B choose 1–14 Feb, C in March; people in every state a choice has."""
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        for code in "ABC":
            session.add(Unit(code=code, name_fi=f"Yksikkö {code}", name_en=f"Unit {code}"))
        await session.flush()
        first = RolloutWave(name="Helmikuu", opens_on=date(2027, 2, 1), closes_on=date(2027, 2, 14))
        second = RolloutWave(
            name="Maaliskuu", opens_on=date(2027, 3, 1), closes_on=date(2027, 3, 14)
        )
        session.add_all([first, second])
        await session.flush()
        session.add_all(
            [
                RolloutWaveUnit(wave_id=first.id, unit_code="A"),
                RolloutWaveUnit(wave_id=first.id, unit_code="B"),
                RolloutWaveUnit(wave_id=second.id, unit_code="C"),
            ]
        )
        people = {
            "a1": ("A", "Aino Aalto", True, None),
            "a2": ("A", "Bertta Berg", True, None),
            "a3": ("A", "Cecilia Corte", True, None),
            "a4": ("A", "Dan Dahl", True, None),
            "a-left": ("A", "Eero Ennen", True, NOW),
            "a-off": ("A", "Fanni Pois", False, None),
            "b1": ("B", "Gustav Gran", True, None),
            "c1": ("C", "Hilkka Hovi", True, None),
        }
        for person, (unit, name, enabled, left_at) in people.items():
            session.add(
                Employee(
                    aad_object_id=person,
                    display_name=name,
                    user_principal_name=f"{person}@pori.fi",
                    unit_code=unit,
                    account_enabled=enabled,
                    left_at=left_at,
                )
            )
        await session.flush()
        choices = [
            # 31 Jan 23:30 UTC is 1 Feb in Pori: the window's first day.
            ("a1", ChoiceOption.FREE_CHOICE, ChoiceStatus.DELIVERED, datetime(2027, 1, 31, 23, 30)),
            ("a2", ChoiceOption.PORI_PHONE, ChoiceStatus.ORDERED, datetime(2027, 2, 2, 9, 0)),
            ("a3", ChoiceOption.FREE_CHOICE, ChoiceStatus.CHANGED, datetime(2027, 2, 1, 9, 0)),
            ("a3", ChoiceOption.FREE_CHOICE, ChoiceStatus.CHOSEN, datetime(2027, 2, 2, 12, 0)),
            ("a4", ChoiceOption.PORI_PHONE, ChoiceStatus.CANCELLED, datetime(2027, 2, 2, 9, 0)),
            ("a-left", ChoiceOption.FREE_CHOICE, ChoiceStatus.CHOSEN, datetime(2027, 2, 1, 9)),
            ("a-off", ChoiceOption.FREE_CHOICE, ChoiceStatus.CHOSEN, datetime(2027, 2, 1, 9)),
            ("c1", ChoiceOption.PORI_PHONE, ChoiceStatus.CHOSEN, datetime(2027, 1, 20, 9, 0)),
        ]
        for person, option, status, made_at in choices:
            session.add(
                PhoneChoice(
                    aad_object_id=person,
                    option=option.value,
                    status=status.value,
                    created_at=made_at.replace(tzinfo=UTC),
                )
            )


async def test_each_unit_counts_its_people_and_their_open_choices(engine):
    await _rollout(engine)
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
    await _rollout(engine)
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
    await _rollout(engine)
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
