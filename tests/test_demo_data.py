"""The demo data loads on both databases, twice without change."""

from __future__ import annotations

from sqlalchemy import select

from bot.catalog.models import PhoneModel
from bot.db.engine import create_session_factory
from bot.demo.loader import demo_data, load_demo_data


async def test_demo_data_loads_idempotently(engine):
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        first = await load_demo_data(session=session)
    async with sessions() as session, session.begin():
        second = await load_demo_data(session=session)
    assert first == second
    assert first.units >= 6 and first.employees >= 10 and first.phone_models >= 5
    async with sessions() as session:
        bases = (await session.scalars(select(PhoneModel).where(PhoneModel.is_base))).all()
    assert len(bases) == 1


def test_demo_catalog_is_marked_as_an_example():
    data = demo_data()
    assert "SAMPLE" in data["catalog"]["source"]
    assert all(isinstance(m["price_cents"], int) for m in data["catalog"]["models"])


async def test_the_demo_has_a_window_open_now_and_more_to_come(sqlite_engine):
    from datetime import date

    from bot.db.engine import create_session_factory
    from bot.demo.loader import load_demo_data, load_demo_waves
    from bot.rollout.service import WindowState, turn_of

    today = date(2027, 3, 10)
    async with create_session_factory(sqlite_engine)() as session, session.begin():
        await load_demo_data(session=session)
        assert await load_demo_waves(session=session, today=today) == 3
        assert await load_demo_waves(session=session, today=today) == 0  # once only
        maija = await turn_of(
            session=session, aad_object_id="00000000-0000-4000-8000-000000000001", today=today
        )
        anna = await turn_of(
            session=session, aad_object_id="00000000-0000-4000-8000-000000000002", today=today
        )
    assert maija.window.state is WindowState.OPEN
    assert anna.window.state is WindowState.NOT_YET
