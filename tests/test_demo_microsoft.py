"""The demo's stand-ins for Microsoft: people come from the fake Graph through the real sync, and
someone who never opened the bot gets the app installed through Graph and a chat in the fake Teams.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiohttp
from sqlalchemy import select

from bot.adapters.botframework.tokens import NoTokenProvider
from bot.adapters.graph.directory_sync import build_directory_sync, graph_directory
from bot.background import CampaignPlanner, build_dispatcher
from bot.db.engine import create_session_factory
from bot.demo.loader import demo_data
from bot.demo.playground import playground_config
from bot.demo.runner import local_microsoft
from bot.directory.models import Employee
from bot.notifications.models import Notification
from bot.rollout.service import schedule_wave
from bot.settings import Settings
from tests.support.activities import TeamsUser, message
from tests.support.bot import running_bot

SARI = "00000000-0000-4000-8000-000000000007"
NOW = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)


async def test_demo_people_sync_and_a_first_notification_installs_the_app(
    sqlite_engine, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    sessions = create_session_factory(sqlite_engine)
    with local_microsoft(Settings(app_id="")) as settings:
        sync = build_directory_sync(settings, sessions, clock=lambda: NOW)
        try:
            report = await sync.run()
        finally:
            await sync.aclose()
        assert report.seen == 12
        async with sessions() as session:
            sari = await session.get(Employee, SARI)
            assert sari is not None and sari.unit_code == "SIVISTYS"
            await schedule_wave(
                session=session,
                name="Demo",
                opens_on=date(2027, 1, 11),
                closes_on=date(2027, 1, 29),
                unit_codes=["SIVISTYS"],
            )
            await session.commit()

        graph = graph_directory(settings)
        async with aiohttp.ClientSession() as http:
            dispatcher = build_dispatcher(
                settings, sessions, http, NoTokenProvider(), clock=lambda: NOW, installer=graph
            )
            planner = CampaignPlanner(sessions, dispatcher, clock=lambda: NOW, reminder_days=3)
            assert await planner.plan_once() == 2
            await dispatcher.run_until_idle()
        await graph.aclose()

    async with sessions() as session:
        outcomes = dict(
            (await session.execute(select(Notification.recipient, Notification.outcome))).all()
        )
    assert outcomes[SARI] == "installed"
    assert set(outcomes.values()) == {"installed"}  # nobody here has chatted with the bot yet


def test_the_playground_user_is_an_ict_admin_in_the_demo_unless_one_is_configured(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    maija = demo_data()["employees"][0]["aad_object_id"]
    with local_microsoft(Settings(app_id="")) as settings:
        assert settings.ict_admins == frozenset({maija})
    with local_microsoft(Settings(app_id="", ict_admin_ids="someone-else")) as settings:
        assert settings.ict_admins == frozenset({"someone-else"})


async def test_the_demo_pins_the_playgrounds_tenant_so_its_user_is_served(
    sqlite_engine, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    tenant = playground_config(demo_data()["employees"])["tenantId"]
    with local_microsoft(Settings(app_id="")) as settings:
        assert settings.tenant_id == tenant
        async with running_bot(sqlite_engine, settings) as bot:
            activity = message(TeamsUser.new(), bot.service_url, "hei")
            activity["conversation"]["tenantId"] = tenant
            activity["channelData"] = {"tenant": {"id": tenant}}
            assert (await bot.post(activity)).status in (200, 201)
