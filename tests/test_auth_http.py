"""Inbound authentication through the real `/api/messages` endpoint, with auth ON (and, at the
end, what still holds with it OFF).

Tokens are signed by a local OpenID metadata + JWKS server (`openid_server`); forged ones are
built here. Every rejected request must be answered before any bot code runs: nothing sent to
the Bot Connector and nothing written to the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.botframework.adapter import MAX_JSON_DEPTH
from bot.adapters.botframework.auth import (
    KEYS_MAX_AGE_SECONDS,
    UNKNOWN_KEY_REFRESH_INTERVAL_SECONDS,
    AuthenticationError,
    OpenIdKeyCache,
)
from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from bot.settings import Settings
from tests.support.activities import TENANT_ID, TeamsUser, message
from tests.support.bot import OUTGOING_TOKEN, BotUnderTest, running_bot

APP_ID = "3c9a1f2e-7b4d-4e6a-9c8b-1d2e3f4a5b6c"
BOT_TABLES = ("conversation_reference", "employee", "bot_state")


def auth_settings(metadata_url: str) -> Settings:
    return Settings(app_id=APP_ID, openid_metadata_url=metadata_url)


@pytest.fixture
async def bot(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> AsyncIterator[BotUnderTest]:
    """The running bot with authentication ON, trusting `openid_server`'s keys."""
    async with running_bot(sqlite_engine, auth_settings(openid_server.metadata_url)) as running:
        yield running


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def valid_token(server: FakeOpenIdServer, service_url: str, **kwargs: Any) -> str:
    return server.sign(app_id=APP_ID, service_url=service_url, **kwargs)


def claims_for(service_url: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 5,
        "exp": now + 3600,
    }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """PyJWT refuses to HMAC-sign with a PEM public key, so the algorithm-confusion token is
    assembled by hand, exactly as an attacker would."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def public_key_pem(server: FakeOpenIdServer) -> bytes:
    """The server's public key as published in its JWKS (what an attacker can download)."""
    jwks_url = server.metadata_url.replace(".well-known/openidconfiguration", "keys")
    jwk = jwt.PyJWKClient(jwks_url).get_signing_key(server.key_id)
    return jwk.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def bot_rows(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table: (await connection.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
            for table in BOT_TABLES
        }


async def assert_no_bot_code_ran(bot: BotUnderTest) -> None:
    assert bot.connector.calls == []
    assert await bot_rows(bot.components.engine) == dict.fromkeys(BOT_TABLES, 0)


def new_message(bot: BotUnderTest, **overrides: Any) -> dict[str, Any]:
    return {**message(TeamsUser.new(), bot.service_url, "hei"), **overrides}


# -- accepted ---------------------------------------------------------------------------------


async def test_valid_token_reaches_the_bot_and_it_replies(
    engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> None:
    async with running_bot(engine, auth_settings(openid_server.metadata_url)) as bot:
        token = valid_token(openid_server, bot.service_url)
        response = await bot.post(new_message(bot), bearer(token))

        assert response.status in (200, 201), await response.text()
        assert bot.connector.activities, "bot did not reply"
        assert {call.authorization for call in bot.connector.calls} == {f"Bearer {OUTGOING_TOKEN}"}
        rows = await bot_rows(engine)
        assert rows["conversation_reference"] == 1
        assert rows["employee"] == 1


async def test_token_expired_within_clock_skew_is_accepted(
    bot: BotUnderTest, openid_server: FakeOpenIdServer
) -> None:
    token = valid_token(openid_server, bot.service_url, lifetime=-60)

    response = await bot.post(new_message(bot), bearer(token))

    assert response.status in (200, 201), await response.text()
    assert bot.connector.activities


# -- rejected with 401 ------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    """Headers for a request, and changes to its activity."""

    headers: Callable[[FakeOpenIdServer, str, rsa.RSAPrivateKey], dict[str, str]]
    activity: dict[str, Any] = field(default_factory=dict)


FORGERIES = {
    "missing authorization header": Forgery(lambda s, url, k: {}),
    "bearer with empty token": Forgery(lambda s, url, k: {"Authorization": "Bearer "}),
    "basic scheme": Forgery(
        lambda s, url, k: {"Authorization": "Basic " + b64url(b"bot:password")}
    ),
    "valid token under basic scheme": Forgery(
        lambda s, url, k: {"Authorization": "Basic " + valid_token(s, url)}
    ),
    "garbage token": Forgery(lambda s, url, k: bearer("abc.def.ghi")),
    "unsigned alg none": Forgery(
        lambda s, url, k: bearer(
            jwt.encode(claims_for(url), None, algorithm="none", headers={"kid": s.key_id})
        )
    ),
    "hs256 signed with the public key": Forgery(
        lambda s, url, k: bearer(hs256_by_hand(claims_for(url), public_key_pem(s), s.key_id))
    ),
    "hs256 signed with a random secret": Forgery(
        lambda s, url, k: bearer(hs256_by_hand(claims_for(url), b"x" * 64, s.key_id))
    ),
    "other rsa key with the same kid": Forgery(
        lambda s, url, k: bearer(valid_token(s, url, private_key=k))
    ),
    "unknown kid": Forgery(lambda s, url, k: bearer(valid_token(s, url, key_id="no-such-key"))),
    "missing kid": Forgery(
        lambda s, url, k: bearer(jwt.encode(claims_for(url), k, algorithm="RS256"))
    ),
    "expired beyond clock skew": Forgery(
        lambda s, url, k: bearer(valid_token(s, url, lifetime=-600))
    ),
    "not valid until beyond clock skew": Forgery(
        lambda s, url, k: bearer(
            valid_token(s, url, extra={"nbf": int(time.time()) + 600, "iat": int(time.time())})
        )
    ),
    "missing exp": Forgery(lambda s, url, k: bearer(valid_token(s, url, omit=("exp",)))),
    "wrong audience": Forgery(
        lambda s, url, k: bearer(s.sign(app_id="some-other-bot", service_url=url))
    ),
    "wrong issuer": Forgery(
        lambda s, url, k: bearer(valid_token(s, url, issuer="https://evil.example"))
    ),
    "missing serviceurl claim": Forgery(
        lambda s, url, k: bearer(valid_token(s, url, omit=("serviceurl",)))
    ),
    "serviceurl claim differs from activity": Forgery(
        lambda s, url, k: bearer(valid_token(s, "https://smba.trafficmanager.net/emea/"))
    ),
    "key not endorsed for the channel": Forgery(
        lambda s, url, k: bearer(valid_token(s, url)), activity={"channelId": "skype"}
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_request_is_401_before_any_bot_code(
    bot: BotUnderTest,
    openid_server: FakeOpenIdServer,
    other_rsa_key: rsa.RSAPrivateKey,
    forgery: Forgery,
) -> None:
    headers = forgery.headers(openid_server, bot.service_url, other_rsa_key)

    response = await bot.post(new_message(bot, **forgery.activity), headers)

    assert response.status == 401
    assert response.content_type == "application/json"
    assert "error" in await response.json()
    await assert_no_bot_code_ran(bot)


async def test_key_endorsed_only_for_webchat_is_refused_for_msteams(
    sqlite_engine: AsyncEngine,
) -> None:
    with FakeOpenIdServer(endorsements=("webchat",)) as webchat_only:
        settings = auth_settings(webchat_only.metadata_url)
        async with running_bot(sqlite_engine, settings) as bot:
            response = await bot.post(
                new_message(bot), bearer(valid_token(webchat_only, bot.service_url))
            )

            assert response.status == 401
            await assert_no_bot_code_ran(bot)


def closed_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_unreachable_openid_server_is_401_not_500(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> None:
    unreachable = f"http://127.0.0.1:{closed_local_port()}/v1/.well-known/openidconfiguration"
    async with running_bot(sqlite_engine, auth_settings(unreachable)) as bot:
        token = valid_token(openid_server, bot.service_url)
        response = await bot.post(new_message(bot), bearer(token))

        assert response.status == 401
        assert "error" in await response.json()
        await assert_no_bot_code_ran(bot)


@pytest.mark.parametrize(
    ("metadata", "jwks"),
    [
        pytest.param([], None, id="metadata is a list"),
        pytest.param({"issuer": "x"}, None, id="metadata without jwks_uri"),
        pytest.param({}, {"keys": "nope"}, id="keys not a list"),
        pytest.param({}, {"keys": [{"kid": "k", "kty": "RSA", "n": "!!"}]}, id="bad key"),
        pytest.param({}, "<html>", id="jwks not json"),
    ],
)
async def test_malformed_openid_documents_are_401_not_500(
    sqlite_engine: AsyncEngine, openid_server: FakeOpenIdServer, metadata: Any, jwks: Any
) -> None:
    async def metadata_route(request: web.Request) -> web.Response:
        document = metadata
        if isinstance(document, dict) and jwks is not None:
            document = {**document, "jwks_uri": str(request.url.with_path("/keys"))}
        return web.json_response(document)

    async def keys_route(request: web.Request) -> web.Response:
        return web.Response(text=jwks if isinstance(jwks, str) else json.dumps(jwks))

    app = web.Application()
    app.router.add_get("/metadata", metadata_route)
    app.router.add_get("/keys", keys_route)
    async with TestServer(app) as broken:
        settings = auth_settings(str(broken.make_url("/metadata")))
        async with running_bot(sqlite_engine, settings) as bot:
            token = valid_token(openid_server, bot.service_url)
            response = await bot.post(new_message(bot), bearer(token))

            assert response.status == 401
            await assert_no_bot_code_ran(bot)


# -- rejected before authentication: not an activity ------------------------------------------


async def post_raw(
    bot: BotUnderTest, body: bytes, content_type: str, token: str
) -> aiohttp.ClientResponse:
    return await bot.client.post(
        "/api/messages", data=body, headers={"Content-Type": content_type, **bearer(token)}
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b"{not json", "application/json", 400, id="not json"),
        pytest.param(b"\xff\xfe", "application/json", 400, id="not utf-8"),
        pytest.param(b"[]", "application/json", 400, id="a list"),
        pytest.param(b"[" * 200_000 + b"]" * 200_000, "application/json", 400, id="deep list"),
        pytest.param(
            json.dumps(message(TeamsUser.new(), "https://x.example/", "hei"))[:-1].encode()
            + b', "value": '
            + b"[" * 2_000
            + b"]" * 2_000
            + b"}",
            "application/json",
            400,
            id="activity nested 2000 deep",
        ),
        pytest.param(b'"message"', "application/json", 400, id="a string"),
        pytest.param(b'{"text": "hei"}', "application/json", 400, id="object without type"),
        pytest.param(b'{"type": "message"}', "text/plain", 415, id="text/plain"),
        pytest.param(b"type=message", "application/x-www-form-urlencoded", 415, id="form"),
    ],
)
async def test_body_that_is_not_an_activity_is_refused_before_bot_code(
    bot: BotUnderTest,
    openid_server: FakeOpenIdServer,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    response = await post_raw(bot, body, content_type, valid_token(openid_server, bot.service_url))

    assert response.status == status
    assert "error" in await response.json()
    await assert_no_bot_code_ran(bot)


async def test_activity_nested_deeper_than_any_teams_activity_is_400(
    bot: BotUnderTest, openid_server: FakeOpenIdServer
) -> None:
    deep: object = "x"
    for _ in range(MAX_JSON_DEPTH):
        deep = {"a": deep}
    token = valid_token(openid_server, bot.service_url)

    response = await bot.post(new_message(bot, value=deep), bearer(token))

    assert response.status == 400
    await assert_no_bot_code_ran(bot)
    shallower = await bot.post(new_message(bot, value=deep["a"]), bearer(token))  # type: ignore[index]
    assert shallower.status in (200, 201)


@pytest.mark.parametrize(
    "fields",
    [{"timestamp": "not a date"}, {"from": 5}, {"conversation": {}}, {"serviceUrl": ""}],
    ids=["bad-timestamp", "from-not-object", "conversation-without-id", "no-service-url"],
)
async def test_activity_with_a_malformed_field_is_400(
    bot: BotUnderTest, openid_server: FakeOpenIdServer, fields: dict[str, object]
) -> None:
    activity = new_message(bot, **fields)

    response = await bot.post(activity, bearer(valid_token(openid_server, bot.service_url)))

    assert response.status == 400
    await assert_no_bot_code_ran(bot)


# -- signing keys are cached ------------------------------------------------------------------


async def test_signing_keys_are_fetched_once_for_many_requests(
    bot: BotUnderTest, openid_server: FakeOpenIdServer
) -> None:
    before = openid_server.requests

    for _ in range(20):
        token = valid_token(openid_server, bot.service_url)
        response = await bot.post(new_message(bot), bearer(token))
        assert response.status in (200, 201)

    assert openid_server.requests - before == 2  # metadata + JWKS, once


async def test_concurrent_first_requests_share_one_key_fetch(
    bot: BotUnderTest, openid_server: FakeOpenIdServer
) -> None:
    before = openid_server.requests
    headers = bearer(valid_token(openid_server, bot.service_url))

    responses = await asyncio.gather(*(bot.post(new_message(bot), headers) for _ in range(10)))

    assert all(response.status in (200, 201) for response in responses)
    assert openid_server.requests - before == 2


async def test_unknown_key_ids_do_not_cause_a_refetch_storm(
    bot: BotUnderTest, openid_server: FakeOpenIdServer
) -> None:
    before = openid_server.requests
    forged = bearer(valid_token(openid_server, bot.service_url, key_id="no-such-key"))

    sequential = [await bot.post(new_message(bot), forged) for _ in range(10)]
    concurrent = await asyncio.gather(*(bot.post(new_message(bot), forged) for _ in range(10)))

    assert {response.status for response in [*sequential, *concurrent]} == {401}
    assert openid_server.requests - before <= 2  # at most one fetch of metadata + JWKS
    await assert_no_bot_code_ran(bot)


# -- the key cache's refresh rules, on a controlled clock -------------------------------------


@dataclass
class FakeClock:
    """Starts well past one day, as `time.monotonic()` does on a host that has been up a while."""

    now: float = 10 * KEYS_MAX_AGE_SECONDS

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def key_cache(
    openid_server: FakeOpenIdServer,
) -> AsyncIterator[tuple[OpenIdKeyCache, FakeClock]]:
    clock = FakeClock()
    async with aiohttp.ClientSession() as http:
        yield OpenIdKeyCache(openid_server.metadata_url, http, clock=clock), clock


async def test_cache_fetches_once_for_concurrent_callers_on_a_long_running_host(
    key_cache: tuple[OpenIdKeyCache, FakeClock], openid_server: FakeOpenIdServer
) -> None:
    cache, _ = key_cache
    before = openid_server.requests

    await asyncio.gather(*(cache.get(openid_server.key_id) for _ in range(10)))

    assert openid_server.requests - before == 2


async def test_cache_refreshes_once_when_keys_are_a_day_old(
    key_cache: tuple[OpenIdKeyCache, FakeClock], openid_server: FakeOpenIdServer
) -> None:
    cache, clock = key_cache
    await cache.get(openid_server.key_id)
    before = openid_server.requests

    clock.now += KEYS_MAX_AGE_SECONDS - 1
    await cache.get(openid_server.key_id)
    assert openid_server.requests == before

    clock.now += 2
    await asyncio.gather(*(cache.get(openid_server.key_id) for _ in range(10)))
    assert openid_server.requests - before == 2


async def test_cache_refetches_for_unknown_kid_at_most_once_per_interval(
    key_cache: tuple[OpenIdKeyCache, FakeClock], openid_server: FakeOpenIdServer
) -> None:
    cache, clock = key_cache
    await cache.get(openid_server.key_id)
    before = openid_server.requests

    async def unknown() -> None:
        with pytest.raises(AuthenticationError):
            await cache.get("no-such-key")

    await asyncio.gather(*(unknown() for _ in range(10)))
    assert openid_server.requests == before  # keys were fetched moments ago

    clock.now += UNKNOWN_KEY_REFRESH_INTERVAL_SECONDS + 1
    await asyncio.gather(*(unknown() for _ in range(10)))
    assert openid_server.requests - before == 2
    await cache.get(openid_server.key_id)  # known keys still served
    assert openid_server.requests - before == 2


async def test_activity_from_another_tenant_is_refused_before_any_bot_code(
    engine: AsyncEngine, openid_server: FakeOpenIdServer
) -> None:
    settings = Settings(
        app_id=APP_ID, openid_metadata_url=openid_server.metadata_url, app_tenant_id="pori-tenant"
    )
    async with running_bot(engine, settings) as bot:
        token = valid_token(openid_server, bot.service_url)
        response = await bot.post(new_message(bot), bearer(token))
        assert response.status == 403
        await assert_no_bot_code_ran(bot)


def from_tenant(bot: BotUnderTest, tenant: str | None) -> dict[str, Any]:
    """A message whose channelData and conversation name `tenant`, or no tenant at all."""
    activity = new_message(bot)
    activity["conversation"] = {**activity["conversation"], "tenantId": tenant}
    activity["channelData"] = {"tenant": {"id": tenant}} if tenant else {}
    return activity


TENANT_SETTINGS = {
    "TEAMS_TENANT_ID, auth on": lambda url: Settings(
        app_id=APP_ID, openid_metadata_url=url, teams_tenant_id=TENANT_ID
    ),
    "MicrosoftAppTenantId, auth on": lambda url: Settings(
        app_id=APP_ID, openid_metadata_url=url, app_tenant_id=TENANT_ID
    ),
    "TEAMS_TENANT_ID, auth off": lambda url: Settings(app_id="", teams_tenant_id=TENANT_ID),
}


@pytest.mark.parametrize("tenant", ["another-tenant", None], ids=["another tenant", "no tenant"])
@pytest.mark.parametrize("settings", TENANT_SETTINGS.values(), ids=TENANT_SETTINGS.keys())
async def test_a_known_tenant_is_pinned_whichever_setting_names_it(
    sqlite_engine: AsyncEngine,
    openid_server: FakeOpenIdServer,
    settings: Callable[[str], Settings],
    tenant: str | None,
) -> None:
    async with running_bot(sqlite_engine, settings(openid_server.metadata_url)) as bot:
        token = valid_token(openid_server, bot.service_url)

        refused = await bot.post(from_tenant(bot, tenant), bearer(token))
        assert refused.status == 403
        await assert_no_bot_code_ran(bot)

        accepted = await bot.post(from_tenant(bot, TENANT_ID), bearer(token))
        assert accepted.status in (200, 201)
        assert bot.connector.activities


# -- with authentication off: the service URL is still checked ------------------------------


@pytest.mark.parametrize(
    "service_url",
    [
        "not a url",
        "/v3/conversations",
        "https://",
        "ftp://smba.trafficmanager.net/emea/",
        "http://smba.trafficmanager.net/emea/",
        "http://192.168.1.20:8080/",
    ],
)
async def test_service_url_neither_https_nor_loopback_is_400_at_once(
    sqlite_engine: AsyncEngine, service_url: str
) -> None:
    async with running_bot(sqlite_engine, Settings(app_id="")) as bot:
        activity = {**new_message(bot), "serviceUrl": service_url}

        response = await asyncio.wait_for(bot.post(activity), timeout=5)

        assert response.status == 400
        await assert_no_bot_code_ran(bot)


async def test_loopback_service_urls_are_served_with_authentication_off(
    sqlite_engine: AsyncEngine,
) -> None:
    async with running_bot(sqlite_engine, Settings(app_id="")) as bot:
        by_name = bot.service_url.replace("127.0.0.1", "localhost")
        for service_url in (bot.service_url, by_name):
            before = len(bot.connector.activities)
            response = await bot.post({**new_message(bot), "serviceUrl": service_url})
            assert response.status in (200, 201)
            assert len(bot.connector.activities) > before
