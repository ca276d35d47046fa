"""A returning employee's turn costs two statements before and after its dialog: read, write.

These guard the cause of the turn speed in `benchmarks/turn_latency.py`, not a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversations.models import ConversationReferenceRecord
from bot.directory.models import Employee
from tests.support.activities import TeamsUser, message
from tests.support.bot import running_bot


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements (not BEGIN or COMMIT) run on `engine` inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_returning_employees_menu_turn_reads_once_and_writes_once(engine):
    user = TeamsUser.new("Aino Virtanen")
    async with running_bot(engine) as bot:
        await bot.say(user, "valikko")
        with statements(engine) as seen:
            replies = await bot.say(user, "valikko")
    assert replies, "the menu was answered"
    assert seen == ["SELECT", "UPDATE"]


async def test_a_turn_that_changes_no_dialog_state_writes_nothing(engine):
    user = TeamsUser.new("Aino Virtanen")
    async with running_bot(engine) as bot:
        await bot.say(user, "valikko")
        typing = message(user, bot.service_url, "")
        typing["type"] = "typing"
        with statements(engine) as seen:
            await bot.turn(typing)
    assert seen == ["SELECT"]


async def test_first_contact_and_a_changed_address_are_written(engine):
    user = TeamsUser.new("Aino Virtanen")
    async with running_bot(engine) as bot:
        await bot.say(user, "valikko")
        async with bot.components.sessions() as session:
            employee = await session.get(Employee, user.aad_object_id)
            assert employee is not None and employee.first_seen_at is not None
        moved = message(user, bot.service_url + "/moved", "valikko")
        await bot.turn(moved)
        async with bot.components.sessions() as session:
            service_url = await session.scalar(select(ConversationReferenceRecord.service_url))
        assert service_url == bot.service_url + "/moved"


async def test_someone_the_directory_knew_is_marked_first_seen_when_they_write(engine):
    user = TeamsUser.new("Aino Virtanen")
    async with running_bot(engine) as bot:
        await bot.say(user, "valikko")
        async with bot.components.sessions() as session, session.begin():
            await session.execute(
                update(Employee)
                .where(Employee.aad_object_id == user.aad_object_id)
                .values(first_seen_at=None)
            )
        await bot.say(user, "valikko")
        async with bot.components.sessions() as session:
            employee = await session.get(Employee, user.aad_object_id)
            assert employee is not None and employee.first_seen_at is not None


async def test_opening_the_phone_choice_checks_eligibility_once(engine):
    """The first step read the employee, waves, choices, plans and catalog one statement at a
    time, and twice over."""
    from bot.db.engine import create_session_factory
    from bot.demo.loader import load_demo_data

    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
    maija = TeamsUser("00000000-0000-4000-8000-000000000001", "Maija Meikäläinen")
    async with running_bot(engine) as bot:
        await bot.say(maija, "valikko")
        full: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            full.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            replies = await bot.press(maija, {"verb": "area.choose_phone"})
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert "Free Choice" in str(replies), "the options card was shown"
    reading_choices = [sql for sql in full if "FROM phone_choice" in sql]
    assert len(reading_choices) == 1, reading_choices
    # The turn's own read, eligibility's facts, the dialog state's write (the unit's waves are
    # read too once any wave is scheduled; the demo data schedules none).
    assert [sql.split()[0] for sql in full] == ["SELECT", "SELECT", "UPDATE"], full
