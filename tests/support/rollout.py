"""A small scripted rollout: two waves, three units, people with choices in every state."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.db.engine import create_session_factory
from bot.directory.models import Employee, Unit
from bot.rollout.models import RolloutWave, RolloutWaveUnit

NOW = datetime(2027, 2, 3, 10, 0, tzinfo=UTC)  # Wednesday 3 February in Pori


async def scripted_rollout(engine: AsyncEngine) -> None:
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
