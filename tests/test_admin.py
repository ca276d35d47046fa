"""ICT's chat commands: waves and campaign reports for admins; a polite no for everyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.demo.loader import load_demo_data
from bot.dialogs.actions import Verb
from bot.directory.models import Unit
from bot.notifications import outbox
from bot.rollout.models import RolloutWave
from bot.settings import Settings
from tests.support.activities import TeamsUser
from tests.support.bot import BotUnderTest, running_bot
from tests.support.cards import all_text, buttons, cards, executes

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
ADMIN = TeamsUser("00000000-0000-4000-8000-000000000005", "Liisa Korhonen")
EMPLOYEE = TeamsUser("00000000-0000-4000-8000-000000000001", "Maija Meikäläinen")
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
FORM = {"name": "Kevät 1", "opens": "2027-02-01", "closes": "2027-02-19", "units": "SIVISTYS"}


@pytest.fixture
async def bot(engine) -> AsyncIterator[BotUnderTest]:
    settings = Settings(app_id="", ict_admin_ids=ADMIN.aad_object_id)
    async with running_bot(engine, settings, clock=lambda: NOW) as running:
        async with running.components.sessions() as session, session.begin():
            await load_demo_data(session=session)
        await running.say(ADMIN, "hei")
        await running.say(EMPLOYEE, "hei")
        yield running


async def wave_count(bot: BotUnderTest) -> int:
    async with bot.components.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RolloutWave)) or 0)


async def test_an_admin_schedules_a_wave_from_the_chat(bot):
    replies = await bot.say(ADMIN, "aallot")
    (card,) = cards(replies)
    units = next(node for node in card["body"] if node.get("id") == "units")
    assert {"title": "Sivistystoimiala", "value": "SIVISTYS"} in units["choices"]
    assert "Aaltoja ei ole vielä aikataulutettu." in all_text(replies)

    submit = buttons(replies)["Aikatauluta"]
    replies = await bot.press(ADMIN, {**submit, **FORM})
    text = all_text(replies)
    assert "Aalto Kevät 1 on aikataulutettu: 1.2.2027–19.2.2027." in text
    assert "**Kevät 1**: 1.2.2027–19.2.2027 (SIVISTYS)" in text
    assert await wave_count(bot) == 1


async def test_a_refused_wave_lists_every_problem_and_saves_nothing(bot):
    submit = buttons(await bot.say(ADMIN, "aallot"))["Aikatauluta"]
    await bot.press(ADMIN, {**submit, **FORM})
    bad = {**FORM, "name": " ", "opens": "2027-02-15", "closes": "2027-02-10"}
    text = all_text(await bot.press(ADMIN, {**submit, **bad, "units": "SIVISTYS,EIOLE"}))
    assert "Aaltoa ei aikataulutettu eikä mitään tallennettu:" in text
    assert "aallolla pitää olla nimi" in text
    assert "päättymispäivä 2027-02-10 on ennen alkamispäivää 2027-02-15" in text
    assert "tuntematon yksikkö EIOLE" in text
    assert "yksiköllä SIVISTYS on jo päällekkäinen aalto Kevät 1" in text
    text = all_text(await bot.press(ADMIN, {**submit, **FORM, "closes": "ei päivä"}))
    assert "päivämäärä puuttuu tai on virheellinen" in text
    assert await wave_count(bot) == 1


async def test_campaign_report_refreshes_in_place(bot):
    async with bot.components.sessions() as session, session.begin():
        campaign = await outbox.create_campaign(
            session=session,
            key="wave-1-window_open",
            kind="window_open",
            title="Kevät 1: avautui",
            now=NOW,
        )
        await outbox.enqueue(
            session=session, campaign_id=campaign.id, recipients=["a", "b", "c"], now=NOW
        )
    replies = await bot.say(ADMIN, "kampanjat")
    assert "Kevät 1: avautui" in all_text(replies)
    assert "Toimitettu 0/3 · ohitettu 0 · odottaa 3 · epäonnistui 0" in all_text(replies)
    verb, data = executes(replies)["Päivitä"]
    status, body = await bot.execute(ADMIN, verb, data)
    assert (status, body["statusCode"]) == (200, 200)
    assert body["type"] == ADAPTIVE
    refreshed = [{"attachments": [{"contentType": ADAPTIVE, "content": body["value"]}]}]
    assert "Toimitettu 0/3" in all_text(refreshed)


async def test_anyone_else_is_refused_at_every_step(bot, caplog):
    assert "vain ICT:n ylläpitäjille" in all_text(await bot.say(EMPLOYEE, "aallot"))
    assert "vain ICT:n ylläpitäjille" in all_text(await bot.say(EMPLOYEE, "kampanjat"))
    copied = {"verb": Verb.ADMIN_SCHEDULE_WAVE.value, **FORM}
    assert "vain ICT:n ylläpitäjille" in all_text(await bot.press(EMPLOYEE, copied))
    assert await wave_count(bot) == 0
    status, body = await bot.execute(EMPLOYEE, Verb.ADMIN_CAMPAIGNS.value, {})
    assert (status, body["statusCode"]) == (200, 403)
    assert body["type"] == "application/vnd.microsoft.error"
    assert "Kevät" not in str(body)
    refusals = [record for record in caplog.records if "refused an admin action" in record.message]
    assert len(refusals) == 4
    assert EMPLOYEE.aad_object_id not in caplog.text, "the log names who was refused"


async def test_a_unit_whose_code_has_a_comma_can_be_picked(bot):
    async with bot.components.sessions() as session, session.begin():
        session.add(Unit(code="Kirjasto, Pori", name_fi="Kirjasto, Pori", name_en="Library"))
    replies = await bot.say(ADMIN, "aallot")
    (card,) = cards(replies)
    units = next(node for node in card["body"] if node.get("id") == "units")
    value = next(c["value"] for c in units["choices"] if c["title"] == "Kirjasto, Pori")
    submit = buttons(replies)["Aikatauluta"]
    text = all_text(await bot.press(ADMIN, {**submit, **FORM, "units": f"SIVISTYS,{value}"}))
    assert "(Kirjasto, Pori, SIVISTYS)" in text
