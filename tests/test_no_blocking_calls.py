"""No blocking network call runs on the event loop during a turn or a token fetch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests

from bot.adapters.botframework.tokens import CredentialTokenProvider
from bot.adapters.entra.credentials import bot_connector_credential
from bot.adapters.entra.fake_token_issuer import FakeTokenIssuer
from bot.settings import AppType, Settings
from tests.support.activities import TeamsUser, message
from tests.support.bot import running_bot


@pytest.fixture
def no_requests(monkeypatch):
    """Any use of the blocking `requests` library fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("blocking requests call during a turn")

    monkeypatch.setattr(requests.Session, "request", refuse)


async def test_authenticated_turn_uses_no_blocking_http(sqlite_engine, openid_server, no_requests):
    app_id = "7e1c4b1a-0f2d-4c3b-9a8e-6d5f4e3c2b1a"
    settings = Settings(
        _env_file=None, app_id=app_id, openid_metadata_url=openid_server.metadata_url
    )
    async with running_bot(sqlite_engine, settings) as bot:
        token = openid_server.sign(app_id=app_id, service_url=bot.service_url)
        user = TeamsUser.new()
        for text in ("hei", "valikko", "in English"):
            response = await bot.post(
                message(user, bot.service_url, text), {"Authorization": f"Bearer {token}"}
            )
            assert response.status in (200, 201)
        assert len(bot.connector.activities) >= 4


async def test_the_bots_own_token_comes_without_blocking_http(no_requests, monkeypatch):
    """azure-identity's async credentials fetch over the loop's own HTTP, never MSAL's threads."""
    import msal

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("MSAL's blocking client was used")

    monkeypatch.setattr(msal.ConfidentialClientApplication, "__init__", refuse)
    entra = await FakeTokenIssuer(secrets={"app": "s"}).start()
    settings = Settings(
        _env_file=None,
        app_id="app",
        app_password="s",
        app_type=AppType.SINGLE_TENANT,
        app_tenant_id="city",
        entra_authority_host=entra.authority,
    )
    provider = CredentialTokenProvider(
        bot_connector_credential(settings, connection_verify=entra.ca_file), "x/.default"
    )
    try:
        first, second = await asyncio.gather(provider.token(), provider.token())
    finally:
        await provider.aclose()
        await entra.stop()
    assert first == second == entra.issued[0].token
    assert len(entra.issued) == 1, "two callers at once share one fetch"
