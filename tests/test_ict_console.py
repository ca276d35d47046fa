"""ICT's console on SQLite and PostgreSQL: what the admin area's cards are made from."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot.db.engine import create_session_factory
from bot.demo.loader import load_demo_data
from bot.ict.console import IctConsole
from bot.notifications import outbox
from bot.rollout.models import RolloutWave

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


async def _console(engine) -> IctConsole:
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo_data(session=session)
    return IctConsole(sessions, lambda: NOW)


async def test_a_wave_with_an_unknown_unit_is_refused_whole(engine):
    console = await _console(engine)
    before = await console.waves()
    known = before.units[0].code

    scheduled = await console.schedule(
        name="Kevät",
        units=[known, "EI-OLE"],
        opens_on=date(2027, 2, 1),
        closes_on=date(2027, 2, 14),
    )

    assert scheduled.wave is None
    assert scheduled.problems == [("unknown_unit", {"unit": "EI-OLE"})]
    assert scheduled.waves == before
    async with create_session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(RolloutWave)) == len(
            before.waves
        )


async def test_a_scheduled_wave_is_among_the_waves_at_once(engine):
    console = await _console(engine)
    code = (await console.waves()).units[0].code
    scheduled = await console.schedule(
        name="Kevät", units=[code], opens_on=date(2027, 3, 1), closes_on=date(2027, 3, 14)
    )
    assert scheduled.wave is not None and scheduled.problems == []
    assert scheduled.wave in scheduled.waves.waves


async def test_only_an_announcement_can_be_stopped_here(engine):
    console = await _console(engine)
    assert await console.stop_announcement(999_999) is None
    async with create_session_factory(engine)() as session, session.begin():
        other = await outbox.create_campaign(
            session=session, kind="rollout", key="w1", title="Aalto 1", now=NOW
        )
    assert await console.stop_announcement(other.id) is None


async def test_sending_a_draft_that_is_gone_does_nothing(engine):
    woken: list[bool] = []
    console = IctConsole(
        create_session_factory(engine), lambda: NOW, wake_sender=lambda: woken.append(True)
    )
    sent = await console.send(12345, "token", "ict-admin")
    assert sent.campaign_id is None and sent.form is None and woken == []
