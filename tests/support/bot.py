"""The real aiohttp app on a local port, with a fake Bot Connector capturing its replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.access_log import RedactingAccessLogger
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.tokens import AccessTokenProvider, FixedTokenProvider
from bot.app import COMPONENTS, Components, create_app
from bot.clock import Clock
from bot.db.engine import create_session_factory
from bot.demo.loader import load_demo_data
from bot.settings import Settings
from bot.telemetry.providers import Telemetry
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.clock import TEST_NOW

OUTGOING_TOKEN = "outgoing-test-token"
# The demo data's first employee (Sivistystoimiala), whom the demo chats as.
MAIJA = TeamsUser("00000000-0000-4000-8000-000000000001", "Maija Meikäläinen")


@dataclass
class BotUnderTest:
    client: TestClient[Any, Any]
    connector: FakeBotConnector
    service_url: str

    @property
    def components(self) -> Components:
        return self.client.app[COMPONENTS]  # type: ignore[index]

    async def post(
        self, activity: dict[str, Any], headers: dict[str, str] | None = None
    ) -> ClientResponse:
        return await self.client.post("/api/messages", json=activity, headers=headers or {})

    async def turn(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one activity; return what the bot sent during it."""
        before = len(self.connector.activities)
        response = await self.post(activity)
        assert response.status in (200, 201), await response.text()
        return self.connector.activities[before:]

    async def say(self, user: TeamsUser, text: str) -> list[dict[str, Any]]:
        return await self.turn(activities.message(user, self.service_url, text))

    async def execute(
        self, user: TeamsUser, verb: str, data: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """An Action.Execute press: returns the HTTP status and the JSON invoke response."""
        response = await self.post(activities.card_action(user, self.service_url, verb, data))
        return response.status, await response.json()

    async def press(self, user: TeamsUser, value: dict[str, Any]) -> list[dict[str, Any]]:
        """A card button press: Teams sends the button's data as the message value."""
        return await self.turn(activities.message(user, self.service_url, "", value))


@asynccontextmanager
async def running_bot(
    engine: AsyncEngine,
    settings: Settings | None = None,
    clock: Clock | None = None,
    *,
    background_jobs: bool = False,
    token_provider: AccessTokenProvider | None = None,
    telemetry: Telemetry | None = None,
) -> AsyncIterator[BotUnderTest]:
    """Background jobs (planner, dispatcher, directory sync) only for tests that ask for them.

    Time stands still at the suite's fixed moment unless the test brings its own clock.
    """
    connector = FakeBotConnector()
    connector_server = TestServer(connector.app())
    await connector_server.start_server(access_log=None)  # the fake's lines are not the bot's
    settings = (settings or Settings(app_id="")).model_copy(
        update={"background_jobs": background_jobs}
    )
    app = create_app(
        settings,
        engine=engine,
        token_provider=token_provider or FixedTokenProvider(OUTGOING_TOKEN),
        clock=clock or (lambda: TEST_NOW),
        telemetry=telemetry,
    )
    server = TestServer(app)
    client: TestClient[Any, Any] = TestClient(server)
    try:
        # The access log the server writes in production, not aiohttp's default.
        await server.start_server(access_log_class=RedactingAccessLogger)
        await client.start_server()
        yield BotUnderTest(client, connector, str(connector_server.make_url("")).rstrip("/"))
    finally:
        await client.close()
        await connector_server.close()


@asynccontextmanager
async def demo_bot(
    engine: AsyncEngine,
    now: datetime,
    settings: Settings | None = None,
    telemetry: Telemetry | None = None,
) -> AsyncIterator[BotUnderTest]:
    """The bot over the demo data with time standing at `now`, Maija having said hello."""
    async with create_session_factory(engine)() as session, session.begin():
        await load_demo_data(session=session)
    async with running_bot(engine, settings, clock=lambda: now, telemetry=telemetry) as running:
        await running.say(MAIJA, "hei")
        yield running
