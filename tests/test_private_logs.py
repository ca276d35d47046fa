"""A failing turn's log says what failed, never whose figures or ids were involved."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog.models import PhoneModel
from bot.choices.models import PhoneChoice
from bot.db.engine import create_engine, create_session_factory
from bot.demo.loader import load_demo_data
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons
from tests.support.database import postgres_database

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
MAIJA = TeamsUser("00000000-0000-4000-8000-000000000001", "Maija Meikäläinen")
ANDROID_ONLY = {"os": "android", "max_monthly": "any", "size": "any", "camera": "false"}
# Figures no traceback line number or timing would show by chance.
PRICE_CENTS = 987_654
BASE_CENTS = 19_900
SHARE_CENTS = PRICE_CENTS - BASE_CENTS


@pytest.fixture
async def bot(engine: AsyncEngine) -> AsyncIterator[BotUnderTest]:
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
        await session.execute(
            update(PhoneModel).where(PhoneModel.sku == "DEMO-A56").values(price_cents=PRICE_CENTS)
        )
    async with running_bot(engine, clock=lambda: NOW) as running:
        yield running


async def refuse_new_choices(engine: AsyncEngine) -> None:
    """The database fails every new phone choice, as a table dropped by mistake would."""
    async with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            statements = [
                "CREATE TABLE choice_audit (share INTEGER)",
                "CREATE TRIGGER refuse_choice BEFORE INSERT ON phone_choice "
                "BEGIN INSERT INTO choice_audit VALUES (NEW.employee_share_cents); END",
                "DROP TABLE choice_audit",
            ]
        else:
            statements = [
                "CREATE FUNCTION refuse_choice() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN INSERT INTO choice_audit VALUES (NEW.employee_share_cents); "
                "RETURN NEW; END $$",
                "CREATE TRIGGER refuse_choice BEFORE INSERT ON phone_choice "
                "FOR EACH ROW EXECUTE FUNCTION refuse_choice()",
            ]
        for statement in statements:
            await connection.execute(text(statement))


def logged_text(records: list[logging.LogRecord]) -> str:
    """Everything the records would write: messages, exception texts and tracebacks."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


async def test_a_database_error_in_a_turn_logs_no_figure_or_id(bot, engine, caplog):
    menu = await bot.say(MAIJA, "valikko")
    options = await bot.press(MAIJA, buttons(menu)["Valitse puhelin"])
    wishes = await bot.press(MAIJA, buttons(options)["Free Choice"])
    listed = await bot.press(MAIJA, {**buttons(wishes)["Näytä puhelimet"], **ANDROID_ONLY})
    details = await bot.press(MAIJA, buttons(listed)["Samsung Galaxy A56"])
    summary = await bot.press(MAIJA, buttons(details)["Valitse tämä"])
    assert "9\u00a0677,54\u00a0€" in all_text(summary)
    await refuse_new_choices(engine)

    caplog.clear()
    with caplog.at_level(logging.INFO):
        replies = await bot.press(
            MAIJA, {**buttons(summary)["Hyväksyn ja valitsen"], "consent": "true"}
        )

    assert "Pahoittelen" in all_text(replies)
    async with bot.components.sessions() as session:
        assert list(await session.scalars(select(PhoneChoice))) == []
    failures = [record for record in caplog.records if record.exc_info]
    assert failures, "the failed turn was not logged"
    logged = logged_text(caplog.records)
    assert "phone_choice" in logged, "the log should still say what failed"
    secrets = {
        "price": str(PRICE_CENTS),
        "employee share": str(SHARE_CENTS),
        "instalment": str(SHARE_CENTS // 24),
        "user id": MAIJA.aad_object_id,
        "conversation id": MAIJA.conversation_id,
    }
    for what, value in secrets.items():
        assert value not in logged, f"the log shows the {what}"


def test_every_engine_is_made_by_the_one_factory_that_hides_parameters():
    root = Path(__file__).resolve().parent.parent
    makers = [
        path.relative_to(root).as_posix()
        for folder in ("bot", "tests", "benchmarks", "scripts")
        for path in (root / folder).rglob("*.py")
        if "create_async_engine(" in path.read_text(encoding="utf-8")
        and path != Path(__file__).resolve()
    ]
    assert makers == ["bot/db/engine.py"]


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///{}", "postgresql+asyncpg://nobody@127.0.0.1:1/x"]
)
async def test_engines_hide_statement_parameters(url, tmp_path):
    engine = create_engine(url.format(tmp_path / "bot.sqlite3"))
    try:
        assert engine.sync_engine.hide_parameters
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_violated_constraint_on_postgresql_does_not_quote_the_row():
    """PostgreSQL's DETAIL names the values ('Key (aad_object_id)=(…) already exists')."""
    someone = "00000000-0000-4000-8000-00000000beef"
    async with postgres_database() as engine:
        insert_twice = text("INSERT INTO employee (aad_object_id, display_name) VALUES (:id, '')")
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as connection:
                await connection.execute(insert_twice, {"id": someone})
                await connection.execute(insert_twice, {"id": someone})
    told = "".join(traceback.format_exception(raised.value))
    assert "pk_employee" in told or "employee" in told
    assert someone not in told
