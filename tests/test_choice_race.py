"""Two presses of one consent racing on PostgreSQL: the loser hears it was already recorded.

The first check by consent token cannot see a choice another transaction has not committed yet;
then the unique token stops the second insert, and that must read as "already recorded", not fail.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.choices.models import PhoneChoice
from bot.choices.service import ChoicePolicy, RecordOutcome, record_choice
from bot.db.engine import create_session_factory
from bot.demo.loader import demo_data, load_demo_data
from tests.support.clock import TEST_NOW
from tests.support.database import postgres_database

pytestmark = pytest.mark.postgres
MAIJA = demo_data()["employees"][0]["aad_object_id"]
TOKEN = "consent-token-1"


async def choose(session: AsyncSession) -> RecordOutcome:
    result = await record_choice(
        session=session,
        aad_object_id=MAIJA,
        model_id=None,
        shown=None,
        consent_token=TOKEN,
        language="fi",
        policy=ChoicePolicy(),
        now=TEST_NOW,
    )
    return result.outcome


async def until_someone_waits_for_a_lock(engine: AsyncEngine) -> None:
    """Polls PostgreSQL's activity view, a transaction a look (it is fixed within one)."""
    async with engine.connect() as connection, asyncio.timeout(10):
        while True:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'INSERT INTO phone_choice%'"
                )
            )
            await connection.rollback()
            if waiting:
                return
            await asyncio.sleep(0.02)


async def test_the_press_that_lost_the_race_is_already_recorded():
    async with postgres_database() as engine:
        sessions = create_session_factory(engine)
        async with sessions() as session, session.begin():
            await load_demo_data(session=session)  # Maija, her unit and a catalog

        async def late_press() -> RecordOutcome:
            async with sessions() as late, late.begin():
                return await choose(late)

        async with sessions() as first, first.begin():
            assert await choose(first) is RecordOutcome.RECORDED
            # The second press finds no choice yet, then waits on the token's unique index.
            late = asyncio.create_task(late_press())
            await until_someone_waits_for_a_lock(engine)
        assert await late is RecordOutcome.ALREADY_RECORDED
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PhoneChoice)) == 1
