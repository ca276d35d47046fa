"""A set-up error that fails every send (no Graph permission, the app not published) stops the
dispatcher once, loudly, and loses nothing; `serve` keeps answering.

The bot runs as `phonebot serve` does, with its background jobs, against the fake Graph and the fake
Bot Connector; nobody has the app yet, so every notification needs it installed first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.tokens import CredentialTokenProvider
from bot.adapters.entra.credentials import bot_connector_credential
from bot.adapters.entra.fake_token_issuer import FakeTokenIssuer
from bot.adapters.graph.fake_graph import FakeGraph
from bot.db.engine import create_session_factory
from bot.notifications import outbox
from bot.notifications.models import Notification
from bot.settings import AppType, Settings
from tests.support.activities import TENANT_ID, TeamsUser
from tests.support.bot import running_bot
from tests.test_dispatcher import TUESDAY_MORNING

TEAMS_APP = "6f3d5c1e-2b7a-4c0e-9a51-7f0d2e8b4c11"
PEOPLE = [f"00000000-0000-4000-a000-{number:012d}" for number in range(5)]
GUARD = 20  # seconds: only so that a broken dispatcher fails instead of hanging


@pytest.fixture
async def teams() -> AsyncIterator[tuple[FakeBotConnector, str]]:
    """A Teams where nobody has the app: opening a chat answers 403 until it is installed."""
    fake = FakeBotConnector(installed=set())
    async with TestServer(fake.app()) as server:
        yield fake, str(server.make_url("")).rstrip("/")


async def announce_to_everyone(engine: AsyncEngine) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        campaign = await outbox.create_campaign(
            session=session,
            key="announcement-1",
            kind="announcement",
            payload={"title_fi": "Huoltokatko", "text_fi": "Puhelinbotti on huollossa."},
            now=TUESDAY_MORNING,
        )
        await outbox.enqueue(
            session=session, campaign_id=campaign.id, recipients=PEOPLE, now=TUESDAY_MORNING
        )


def settings_for(graph: FakeGraph, service_url: str) -> Settings:
    return Settings(
        _env_file=None,
        app_id="",
        graph_base_url=graph.base_url,
        teams_app_id=TEAMS_APP,
        teams_tenant_id=TENANT_ID,  # the tenant test activities come from: it is pinned
        teams_service_url=service_url,
        notify_working_hours="00:00-24:00",
        notify_working_days="mon-sun",
        notify_public_holidays=False,
        directory_sync_interval_minutes=0,
    )


async def rows(engine: AsyncEngine) -> list[Notification]:
    async with create_session_factory(engine)() as session:
        return list(await session.scalars(select(Notification)))


@pytest.mark.parametrize("fault", ["unpublished", "no-permission"])
async def test_a_configuration_error_stops_the_dispatcher_and_fails_nobody(
    engine, teams, caplog, fault
):
    fake_teams, service_url = teams
    await announce_to_everyone(engine)
    async with FakeGraph() as graph:
        if fault == "no-permission":
            graph.publish_app(TEAMS_APP)
            graph.fail_next(100, status=403)
        settings = settings_for(graph, service_url)
        with caplog.at_level(logging.ERROR, logger="bot.notifications.dispatcher"):
            async with running_bot(
                engine, settings, clock=lambda: TUESDAY_MORNING, background_jobs=True
            ) as bot:
                dispatcher = bot.components.jobs.dispatcher
                await asyncio.wait_for(dispatcher.halted.wait(), GUARD)
                answer = await bot.say(TeamsUser(PEOPLE[0], "Maija Meikäläinen"), "hei")
                assert answer  # chatting goes on
                await asyncio.sleep(0.3)  # several polls: the dispatcher claims nothing more

    stored = await rows(engine)
    assert {row.state for row in stored} == {"pending"}
    assert {row.attempts for row in stored} == {0}
    assert {row.reason for row in stored} <= {outbox.CONFIGURATION, None}
    assert fake_teams.activities == []
    stopped = [record for record in caplog.records if "configuration error" in record.message]
    assert len(stopped) == 1
    assert "AppCatalog.Read.All" in stopped[0].message or "app catalog" in stopped[0].message
    assert not any(person in stopped[0].message for person in PEOPLE)


async def test_a_credential_entra_refuses_stops_the_dispatcher_without_the_secret(
    engine, teams, caplog
):
    """A wrong MicrosoftAppPassword fails every send the same way: stop once, say what to fix."""
    wrong = "vanhentunut-salaisuus"
    fake_teams, service_url = teams
    await announce_to_everyone(engine)
    entra = await FakeTokenIssuer(secrets={"bot-app": "the-right-one"}).start()
    app = Settings(
        _env_file=None,
        app_id="bot-app",
        app_password=wrong,
        app_type=AppType.SINGLE_TENANT,
        app_tenant_id=TENANT_ID,
        entra_authority_host=entra.authority,
    )
    tokens = CredentialTokenProvider(
        bot_connector_credential(app, connection_verify=entra.ca_file),
        app.connector_oauth_scope,
    )
    try:
        async with FakeGraph() as graph:
            graph.publish_app(TEAMS_APP)
            with caplog.at_level(logging.ERROR, logger="bot.notifications.dispatcher"):
                async with running_bot(
                    engine,
                    settings_for(graph, service_url),
                    clock=lambda: TUESDAY_MORNING,
                    background_jobs=True,
                    token_provider=tokens,
                ) as bot:
                    await asyncio.wait_for(bot.components.jobs.dispatcher.halted.wait(), GUARD)
    finally:
        await tokens.aclose()
        await entra.stop()

    stored = await rows(engine)
    assert {row.state for row in stored} == {"pending"}, "nobody failed, everybody waits"
    assert fake_teams.activities == []
    stopped = [record for record in caplog.records if "configuration error" in record.message]
    assert len(stopped) == 1
    assert "AADSTS7000215" in stopped[0].message and "MicrosoftAppPassword" in stopped[0].message
    assert wrong not in caplog.text
