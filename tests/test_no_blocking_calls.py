"""No blocking network call runs on the event loop during a turn or a token fetch."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar

import pytest
import requests

from bot.adapters.botframework import tokens
from bot.adapters.botframework.tokens import MsalTokenProvider, TokenError
from bot.settings import Settings
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


class FakeConfidentialClient:
    """Stands in for MSAL; records which thread each call ran on."""

    threads: ClassVar[list[int]] = []
    results: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, app_id, client_credential, authority):
        FakeConfidentialClient.threads.append(threading.get_ident())
        self.authority = authority

    def acquire_token_for_client(self, scopes):
        FakeConfidentialClient.threads.append(threading.get_ident())
        return FakeConfidentialClient.results.pop(0)


@pytest.fixture
def fake_msal(monkeypatch):
    FakeConfidentialClient.threads = []
    FakeConfidentialClient.results = []
    monkeypatch.setattr(tokens, "ConfidentialClientApplication", FakeConfidentialClient)
    return FakeConfidentialClient


def _provider() -> MsalTokenProvider:
    return MsalTokenProvider(app_id="a", secret="s", tenant_id="t", scope="x/.default")


async def test_msal_runs_off_the_event_loop_and_tokens_are_cached(fake_msal):
    fake_msal.results = [{"access_token": "one", "expires_in": 3600}]
    provider = _provider()
    loop_thread = threading.get_ident()
    first, second = await asyncio.gather(provider.token(), provider.token())
    assert first == second == "one"
    assert len(fake_msal.threads) == 2, "one construction and one fetch, shared by both callers"
    assert loop_thread not in fake_msal.threads


async def test_token_close_to_expiry_is_refreshed(fake_msal):
    fake_msal.results = [
        {"access_token": "short", "expires_in": 10},
        {"access_token": "fresh", "expires_in": 3600},
    ]
    provider = _provider()
    assert await provider.token() == "short"
    assert await provider.token() == "fresh"


async def test_token_failure_is_a_clear_error(fake_msal):
    fake_msal.results = [{"error": "invalid_client", "error_description": "bad secret"}]
    with pytest.raises(TokenError, match="bad secret"):
        await _provider().token()
