"""Scheduling a rollout wave: refusals worded from the catalog, and a double click on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_session_factory
from bot.directory.models import Unit
from bot.i18n import texts
from bot.refusal import Reason
from bot.rollout.models import RolloutWave
from bot.rollout.service import ROLLOUT_WAVES_LOCK, WaveError, schedule_wave
from tests.support.database import postgres_database, second_engine

GUARD = 20  # seconds: only so that a broken lock fails instead of hanging
PROBLEMS = [
    ("no_name", {}),
    ("closes_before_opens", {"opens": "2027-03-15", "closes": "2027-03-10"}),
    ("no_units", {}),
    ("unknown_unit", {"unit": "EIOLE"}),
    ("overlaps", {"unit": "SIVISTYS", "wave": "Aalto 1"}),
]


@pytest.mark.parametrize(("key", "values"), PROBLEMS, ids=[key for key, _ in PROBLEMS])
def test_wave_errors_read_as_the_catalog_words_them(key, values):
    error = WaveError(key, **values)
    assert error.worded(texts("fi")) == texts("fi")(f"wave_problem.{key}", **values)
    assert error.worded(texts("en")) == texts("en")(f"wave_problem.{key}", **values)


def test_several_problems_are_told_at_once():
    error = WaveError.for_all([Reason(key, values) for key, values in (PROBLEMS[0], PROBLEMS[3])])
    assert error.worded(texts("fi")) == "aallolla pitää olla nimi; tuntematon yksikkö EIOLE"
    assert error.problems == [PROBLEMS[0], PROBLEMS[3]]


async def add_unit(engine: AsyncEngine) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        session.add(Unit(code="SIVISTYS", name_fi="Sivistystoimiala", name_en="Education"))


async def waiting_for_the_lock(engine: AsyncEngine) -> int:
    """Sessions waiting for the rollout waves' advisory lock (a bigint key is two 32-bit halves)."""
    async with engine.connect() as connection:
        found = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": ROLLOUT_WAVES_LOCK >> 32, "low": ROLLOUT_WAVES_LOCK & 0xFFFFFFFF},
        )
        return int(found or 0)


@pytest.mark.postgres
async def test_a_double_click_makes_one_wave_and_one_overlap_error():
    async with postgres_database() as first_engine:
        async with second_engine(first_engine) as other_engine:
            await add_unit(first_engine)
            first_scheduled = asyncio.Event()
            second_finished = asyncio.Event()

            async def click(engine: AsyncEngine, before_commit: Callable[[], Awaitable[None]]):
                async with create_session_factory(engine)() as session, session.begin():
                    await schedule_wave(
                        session=session,
                        name="Aalto 1",
                        opens_on=date(2027, 1, 10),
                        closes_on=date(2027, 1, 31),
                        unit_codes=["SIVISTYS"],
                    )
                    await before_commit()

            async def hold_until_the_second_click_waits() -> None:
                """Lets the first click commit once the second waits for the lock (or is done)."""
                first_scheduled.set()
                for _ in range(GUARD * 100):
                    if second_finished.is_set() or await waiting_for_the_lock(first_engine):
                        return
                    await asyncio.sleep(0.01)

            async def nothing() -> None:
                pass

            async def second() -> None:
                await first_scheduled.wait()
                try:
                    await click(other_engine, nothing)
                finally:
                    second_finished.set()

            first = click(first_engine, hold_until_the_second_click_waits)
            results = await asyncio.wait_for(
                asyncio.gather(first, second(), return_exceptions=True), GUARD
            )
        assert results[0] is None
        assert isinstance(results[1], WaveError)
        assert results[1].problems == [("overlaps", {"unit": "SIVISTYS", "wave": "Aalto 1"})]
        async with create_session_factory(first_engine)() as session:
            assert await session.scalar(select(func.count()).select_from(RolloutWave)) == 1
