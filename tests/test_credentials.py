"""The bot's own identity through azure-identity: a client secret, a certificate or a managed
identity, each against a local stand-in for Entra ID's token endpoints over HTTPS.

The credentials are the ones the app builds from its settings; the only thing a test adds is
trust in the stand-in's certificate authority (azure-core's `connection_verify`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.fake_connector import FakeBotConnector
from bot.adapters.botframework.tokens import CredentialTokenProvider, TokenError
from bot.adapters.entra.credentials import (
    CredentialKind,
    bot_connector_credential,
    credential_kind,
    graph_credential,
)
from bot.adapters.entra.fake_token_issuer import Certificate, FakeTokenIssuer
from bot.adapters.graph.directory_sync import graph_directory
from bot.adapters.graph.fake_graph import FakeGraph
from bot.backoff import RetryPolicy
from bot.settings import AppType, Settings

APP_ID = "8e4f1d2c-1111-4a2b-9c3d-5e6f7a8b9c0d"
CITY = "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
SECRET = "kaksi-kolme-neljä-viisi"
BOT_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
async def entra() -> AsyncIterator[FakeTokenIssuer]:
    issuer = await FakeTokenIssuer(secrets={APP_ID: SECRET}).start()
    yield issuer
    await issuer.stop()


def settings_for(entra: FakeTokenIssuer, **values: object) -> Settings:
    defaults: dict[str, object] = {
        "app_id": APP_ID,
        "app_type": AppType.SINGLE_TENANT,
        "app_tenant_id": CITY,
        "entra_authority_host": entra.authority,
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[arg-type]


def bot_tokens(settings: Settings, entra: FakeTokenIssuer) -> CredentialTokenProvider:
    credential = bot_connector_credential(settings, connection_verify=entra.ca_file)
    return CredentialTokenProvider(credential, settings.connector_oauth_scope)


async def test_a_client_secret_gets_a_bot_connector_token_once_and_reuses_it(entra):
    tokens = bot_tokens(settings_for(entra, app_password=SECRET), entra)
    try:
        first, second = await tokens.token(), await tokens.token()
    finally:
        await tokens.aclose()
    assert first == second == entra.issued[0].token
    assert len(entra.issued) == 1, "azure-identity caches the token: fetched once"
    issued = entra.issued[0]
    assert (issued.proof, issued.scope, issued.tenant) == ("secret", BOT_SCOPE, CITY)


async def test_a_multi_tenant_bot_gets_its_connector_token_from_botframework_com(entra):
    settings = settings_for(entra, app_password=SECRET, app_type=AppType.MULTI_TENANT)
    tokens = bot_tokens(settings, entra)
    try:
        await tokens.token()
    finally:
        await tokens.aclose()
    assert entra.issued[0].tenant == "botframework.com"


async def test_a_certificate_proves_the_bot_without_any_secret(entra, tmp_path: Path):
    certificate = Certificate.new()
    entra.certificates[APP_ID] = certificate
    pem = tmp_path / "puhelinbotti.pem"
    pem.write_bytes(certificate.pem)
    settings = settings_for(entra, app_certificate_path=pem)
    assert credential_kind(settings) is CredentialKind.CERTIFICATE
    assert settings.refusal_to_serve("0.0.0.0") is None
    tokens = bot_tokens(settings, entra)
    try:
        assert await tokens.token() == entra.issued[0].token
    finally:
        await tokens.aclose()
    assert entra.issued[0].proof == "certificate"


async def test_a_certificate_entra_does_not_know_is_refused(entra, tmp_path: Path):
    entra.certificates[APP_ID] = Certificate.new()
    pem = tmp_path / "another.pem"
    pem.write_bytes(Certificate.new().pem)
    tokens = bot_tokens(settings_for(entra, app_certificate_path=pem), entra)
    try:
        with pytest.raises(TokenError, match="AADSTS700027") as refused:
            await tokens.token()
    finally:
        await tokens.aclose()
    assert refused.value.refused
    assert entra.issued == []


async def test_a_wrong_secret_is_a_refusal_that_never_repeats_the_secret(entra):
    wrong = "väärä-salasana-123"
    tokens = bot_tokens(settings_for(entra, app_password=wrong), entra)
    try:
        with pytest.raises(TokenError, match="AADSTS7000215") as refused:
            await tokens.token()
    finally:
        await tokens.aclose()
    assert refused.value.refused, "a refusal is the set-up's fault: sending stops, loudly"
    assert wrong not in str(refused.value)


async def test_an_unreachable_token_service_is_not_a_refusal(entra):
    settings = settings_for(entra, app_password=SECRET, entra_authority_host="https://127.0.0.1:1")
    tokens = bot_tokens(settings, entra)
    try:
        with pytest.raises(TokenError) as failed:
            await tokens.token()
    finally:
        await tokens.aclose()
    assert not failed.value.refused, "a network failure is tried again, not a configuration error"


async def test_an_entra_outage_is_not_a_refusal(entra):
    """A 503 after azure-core's retries is tried again later, not a configuration error."""
    entra.unavailable = 1
    settings = settings_for(entra, app_password=SECRET)
    credential = bot_connector_credential(settings, connection_verify=entra.ca_file, retry_total=0)
    tokens = CredentialTokenProvider(credential, settings.connector_oauth_scope)
    try:
        with pytest.raises(TokenError) as failed:
            await tokens.token()
        assert not failed.value.refused
        assert await tokens.token() == entra.issued[0].token, "the next try gets its token"
    finally:
        await tokens.aclose()


async def test_a_managed_identity_gets_tokens_from_the_hosts_endpoint(entra, monkeypatch):
    entra.managed_identity = APP_ID
    # What App Service and Container Apps put in the environment of a container with an identity.
    monkeypatch.setenv("IDENTITY_ENDPOINT", entra.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", entra.identity_header)
    settings = settings_for(entra, app_type=AppType.USER_ASSIGNED_MSI)
    assert credential_kind(settings) is CredentialKind.MANAGED_IDENTITY
    assert settings.refusal_to_serve("0.0.0.0") is None, "no secret is needed"
    tokens = bot_tokens(settings, entra)
    try:
        assert await tokens.token() == entra.issued[0].token
    finally:
        await tokens.aclose()
    issued = entra.issued[0]
    assert (issued.proof, issued.client_id) == ("managed identity", APP_ID)
    assert issued.scope == BOT_SCOPE.removesuffix("/.default")


async def test_the_bot_connector_receives_the_token_entra_issued(entra):
    connector = FakeBotConnector()
    tokens = bot_tokens(settings_for(entra, app_password=SECRET), entra)
    async with TestServer(connector.app()) as server, ClientSession() as http:
        client = BotConnectorClient(http, tokens, policy=RetryPolicy(max_attempts=1))
        service_url = str(server.make_url("")).rstrip("/")
        await client.send_to_conversation(service_url, "a:chat-1", {"type": "message"})
    await tokens.aclose()
    assert connector.calls[-1].authorization == f"Bearer {entra.issued[0].token}"


async def test_graph_gets_its_own_token_from_the_citys_tenant(entra):
    settings = settings_for(entra, app_password=SECRET, app_type=AppType.MULTI_TENANT)
    credential = graph_credential(settings, connection_verify=entra.ca_file)
    try:
        token = await credential.get_token(GRAPH_SCOPE)
    finally:
        await credential.close()
    assert token.token == entra.issued[0].token
    assert (entra.issued[0].scope, entra.issued[0].tenant) == (GRAPH_SCOPE, CITY)


async def test_graph_calls_carry_the_token_of_the_configured_credential(entra, tmp_path: Path):
    certificate = Certificate.new()
    entra.certificates[APP_ID] = certificate
    pem = tmp_path / "puhelinbotti.pem"
    pem.write_bytes(certificate.pem)
    async with FakeGraph() as fake:
        settings = settings_for(entra, app_certificate_path=pem, graph_base_url=fake.base_url)
        directory = graph_directory(settings, connection_verify=entra.ca_file)
        try:
            await directory.list_users()
        finally:
            await directory.aclose()
    assert fake.requests, "Graph was asked"
    assert {request.authorization for request in fake.requests} == {
        f"Bearer {entra.issued[0].token}"
    }
    assert (entra.issued[0].proof, entra.issued[0].scope) == ("certificate", GRAPH_SCOPE)


# -- settings: one proof of identity, and serve refuses to start without one --------------------


def test_a_secret_and_a_certificate_together_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="not both"):
        Settings(_env_file=None, app_id=APP_ID, app_password=SECRET, app_certificate_path=tmp_path)


def test_a_managed_identity_with_a_secret_is_refused():
    with pytest.raises(ValueError, match="UserAssignedMSI"):
        Settings(
            _env_file=None,
            app_id=APP_ID,
            app_type=AppType.USER_ASSIGNED_MSI,
            app_tenant_id=CITY,
            app_password=SECRET,
        )


def test_an_authority_without_tls_is_refused():
    with pytest.raises(ValueError, match="ENTRA_AUTHORITY_HOST"):
        Settings(_env_file=None, entra_authority_host="http://login.example")


def test_serve_refuses_an_app_id_with_no_way_to_prove_it(tmp_path: Path):
    bare = Settings(_env_file=None, app_id=APP_ID, app_tenant_id=CITY)
    assert bare.refusal_to_serve("0.0.0.0").key == "no_credential"  # type: ignore[union-attr]
    missing = Settings(
        _env_file=None,
        app_id=APP_ID,
        app_tenant_id=CITY,
        app_certificate_path=tmp_path / "nowhere.pem",
    )
    refusal = missing.refusal_to_serve("0.0.0.0")
    assert refusal is not None and refusal.key == "certificate_missing"
