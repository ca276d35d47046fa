"""'When is our turn?': rollout waves scheduled by ICT, answered in the employee's chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.demo.loader import load_demo_data
from bot.i18n import texts
from bot.rollout.service import WaveError, schedule_wave
from tests.support.bot import MAIJA, BotUnderTest, demo_bot
from tests.support.cards import all_text, buttons

NOW = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    async with demo_bot(engine, NOW) as running:
        yield running


async def wave(bot: BotUnderTest, opens: date, closes: date, *units: str) -> None:
    async with bot.components.sessions() as session, session.begin():
        await schedule_wave(
            session=session, name="Aalto", opens_on=opens, closes_on=closes, unit_codes=list(units)
        )


async def test_no_waves_means_choose_now(bot):
    replies = await bot.say(MAIJA, "Milloin on meidän vuoro?")
    assert "voit valita puhelimesi jo nyt" in all_text(replies)
    assert "Valitse puhelin" in buttons(replies)


async def test_open_window_from_the_menu(bot):
    await wave(bot, date(2027, 1, 10), date(2027, 1, 31), "SIVISTYS")
    menu = await bot.say(MAIJA, "valikko")
    replies = await bot.press(MAIJA, buttons(menu)["Yksikköni vuoro"])
    text = all_text(replies)
    assert "Yksikkösi: Sivistystoimiala" in text
    assert "Yksikkösi vuoro on nyt! Voit valita puhelimesi 31.1.2027 asti." in text


async def test_upcoming_and_unscheduled(bot):
    await wave(bot, date(2027, 3, 1), date(2027, 3, 20), "PERUSTURVA")
    assert "ei ole vielä päätetty" in all_text(await bot.say(MAIJA, "milloin on minun vuoro"))
    await wave(bot, date(2027, 2, 1), date(2027, 2, 14), "SIVISTYS")
    text = all_text(await bot.say(MAIJA, "milloin on minun vuoro"))
    assert "alkaa 1.2.2027 ja päättyy 14.2.2027" in text
    assert "Valitse puhelin" not in text


async def test_overlapping_or_unknown_units_are_refused(bot):
    await wave(bot, date(2027, 3, 1), date(2027, 3, 20), "PERUSTURVA")
    with pytest.raises(WaveError) as raised:
        await wave(bot, date(2027, 3, 15), date(2027, 3, 10), "PERUSTURVA", "EIOLE")
    message = raised.value.worded(texts("fi"))
    assert "ennen alkamispäivää" in message and "EIOLE" in message and "päällekkäinen" in message


async def test_rollout_commands(tmp_path, monkeypatch, capsys):
    database = f"sqlite+aiosqlite:///{tmp_path / 'waves.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
    await engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database)
    schedule = [
        "rollout",
        "schedule",
        "--name",
        "Aalto 1",
        "--opens",
        "2027-01-10",
        "--closes",
        "2027-01-31",
        "SIVISTYS",
        "PERUSTURVA",
    ]
    assert await asyncio.to_thread(main, schedule) == 0
    assert await asyncio.to_thread(main, schedule) == 1
    assert "päällekkäinen" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["rollout", "list"]) == 0
    assert "Aalto 1 10.1.2027–31.1.2027: PERUSTURVA, SIVISTYS" in capsys.readouterr().out
