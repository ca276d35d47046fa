"""ProactiveSender against the fake Bot Connector: continue, create, install first, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.botframework.connector import BotConnectorClient, ConnectorError
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.proactive import (
    CONTINUED,
    CREATED,
    INSTALLED,
    Address,
    NotInstalledError,
    ProactiveSender,
)
from bot.adapters.botframework.tokens import NoTokenProvider
from bot.backoff import RetryPolicy

TENANT = "tenant-pori"
USER = "00000000-0000-4000-8000-000000000042"
CARD = {"type": "message", "text": "Yksikkösi vuoro on nyt!"}
TEAMS_APP = "teams-app-1"


@dataclass
class InstallerFake:
    """Stands in for Graph's installedApps: tells the connector the app is now there."""

    connector: FakeBotConnector
    installs: list[tuple[str, str]] = field(default_factory=list)

    async def install_app_for_user(self, user_id: str, teams_app_id: str) -> str:
        self.installs.append((user_id, teams_app_id))
        self.connector.mark_installed(user_id)
        return "installed"


@dataclass
class Wire:
    fake: FakeBotConnector
    url: str
    client: BotConnectorClient


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    fake = FakeBotConnector(installed=set())
    server = TestServer(fake.app())
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        client = BotConnectorClient(http, NoTokenProvider(), policy=RetryPolicy(max_attempts=1))
        yield Wire(fake, str(server.make_url("")).rstrip("/"), client)
    await server.close()


def sender(wire: Wire, installer: InstallerFake | None = None) -> ProactiveSender:
    return ProactiveSender(
        wire.client, bot_id="28:bot", teams_app_id=TEAMS_APP, installer=installer
    )


async def test_a_stored_conversation_is_continued(wire):
    wire.fake.mark_installed(USER)
    conversation = wire.fake.conversation_for(USER)
    sent = await sender(wire).send(Address(USER, TENANT, wire.url, conversation), CARD)
    assert sent.outcome == CONTINUED
    assert sent.conversation_id == conversation
    assert [call.path for call in wire.fake.calls] == [
        f"/v3/conversations/{conversation}/activities"
    ]
    assert wire.fake.delivered_to(conversation)[0]["text"] == CARD["text"]


async def test_someone_with_the_app_but_no_chat_gets_a_new_one(wire):
    wire.fake.mark_installed(USER)
    sent = await sender(wire).send(Address(USER, TENANT, wire.url), CARD)
    assert sent.outcome == CREATED
    create = wire.fake.calls[0]
    assert create.path == "/v3/conversations"
    assert create.body is not None
    assert create.body["members"] == [{"id": USER}]
    assert create.body["tenantId"] == TENANT
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    assert create.body["isGroup"] is False
    assert wire.fake.delivered_to(sent.conversation_id) != []


async def test_someone_who_never_had_the_app_gets_it_installed_first(wire):
    installer = InstallerFake(wire.fake)
    sent = await sender(wire, installer).send(Address(USER, TENANT, wire.url), CARD)
    assert sent.outcome == INSTALLED
    assert installer.installs == [(USER, TEAMS_APP)]
    statuses = [call.path for call in wire.fake.calls]
    assert statuses == [
        "/v3/conversations",  # refused: not installed
        "/v3/conversations",  # after installing
        f"/v3/conversations/{sent.conversation_id}/activities",
    ]
    assert len(wire.fake.delivered_to(sent.conversation_id)) == 1


async def test_without_an_installer_not_installed_is_said_plainly(wire):
    with pytest.raises(NotInstalledError):
        await sender(wire).send(Address(USER, TENANT, wire.url), CARD)
    assert wire.fake.activities == []


@pytest.mark.parametrize(("setup", "status"), [("blocked", 403), ("unknown", 404)])
async def test_blocked_and_unknown_conversations_are_final(wire, setup, status):
    wire.fake.mark_installed(USER)
    conversation = wire.fake.conversation_for(USER)
    if setup == "blocked":
        wire.fake.blocked.add(USER)
    else:
        wire.fake.unknown_conversations.add(conversation)
    with pytest.raises(ConnectorError) as raised:
        await sender(wire).send(Address(USER, TENANT, wire.url, conversation), CARD)
    assert raised.value.status == status
    assert raised.value.is_final_for_recipient
    assert wire.fake.activities == []
