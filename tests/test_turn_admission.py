"""Past the limit of turns at once, turns wait in arrival order and none is lost."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import Bot, TurnContext
from botframework.connector.auth import MicrosoftAppCredentials

from bot.adapters.botframework.adapter import BotHttpAdapter
from bot.adapters.botframework.authentication import ChannelAuthentication
from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.tokens import NoTokenProvider
from tests.support.activities import TeamsUser, message


class GatedBot(Bot):  # type: ignore[misc]
    """Each turn waits at a gate; records how many ran at once and in which order."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.running = 0
        self.most_at_once = 0
        self.started: list[str] = []

    async def on_turn(self, context: TurnContext) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.started.append(context.activity.text)
        await self.gate.wait()
        self.running -= 1


async def test_turns_past_the_limit_wait_in_arrival_order_and_all_are_answered() -> None:
    bot = GatedBot()
    async with TestClient(TestServer(web.Application())) as probe:
        http = probe.session
        adapter = BotHttpAdapter(
            ChannelAuthentication(
                validator=None,
                credentials=MicrosoftAppCredentials(None, None),
                oauth_scope="https://api.botframework.com",
            ),
            BotConnectorClient(http, NoTokenProvider()),
            max_concurrent_turns=2,
        )
        app = web.Application()

        async def messages(request: web.Request) -> web.Response:
            return await adapter.handle(request, bot)

        app.router.add_post("/api/messages", messages)
        async with TestClient(TestServer(app)) as client:
            user = TeamsUser.new()
            posts = []
            for number in range(5):
                activity = message(user, "http://127.0.0.1:9", f"turn {number}")
                posts.append(asyncio.create_task(client.post("/api/messages", json=activity)))
                await asyncio.sleep(0.02)
            assert bot.started == ["turn 0", "turn 1"]
            bot.gate.set()
            responses = await asyncio.gather(*posts)
    assert [response.status for response in responses] == [201] * 5
    assert bot.most_at_once == 2
    assert bot.started == [f"turn {number}" for number in range(5)]
