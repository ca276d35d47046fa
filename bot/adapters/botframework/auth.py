"""Validation of the JWT the Bot Connector sends with every activity.

Upstream (botframework-connector 4.17.1) fetches OpenID metadata and signing keys with blocking
`requests.get` on the event loop, without a timeout, and answers several forged tokens (expired,
unknown `kid`, missing header) with an unhandled exception, so HTTP 500. We validate the same
claims with PyJWT, fetch keys with aiohttp, and turn every failure into `AuthenticationError`,
which the HTTP layer answers with 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256",)
CLOCK_SKEW_SECONDS = 300
KEYS_MAX_AGE_SECONDS = 24 * 3600
UNKNOWN_KEY_REFRESH_INTERVAL_SECONDS = 300
FETCH_TIMEOUT_SECONDS = 10


class AuthenticationError(Exception):
    """The request does not carry a valid Bot Connector token; answer 401."""


@dataclass(frozen=True)
class SigningKey:
    key: Any
    endorsements: tuple[str, ...]


class OpenIdKeyCache:
    """Signing keys from an OpenID metadata document, refreshed daily or on an unknown key id.

    Callers that arrive while a fetch is under way share its result, and once keys are held a
    fetch is tried at most every `UNKNOWN_KEY_REFRESH_INTERVAL_SECONDS`, whether it succeeded or
    not, so neither unknown key ids nor an unreachable metadata server cause a fetch per request.
    """

    def __init__(
        self,
        metadata_url: str,
        http: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metadata_url = metadata_url
        self._http = http
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def get(self, key_id: str) -> SigningKey:
        stale = self._fetched_at is None or self._clock() - self._fetched_at > KEYS_MAX_AGE_SECONDS
        if stale or key_id not in self._keys:
            await self._refresh()
        key = self._keys.get(key_id)
        if key is None:
            raise AuthenticationError("token signed with an unknown key")
        return key

    async def _refresh(self) -> None:
        # A fetch under way when this caller arrives, or started while it waits, serves it too.
        served_after = self._attempts - (1 if self._lock.locked() else 0)
        async with self._lock:
            if self._attempts > served_after:
                return
            if (
                self._keys
                and self._attempted_at is not None
                and self._clock() - self._attempted_at < UNKNOWN_KEY_REFRESH_INTERVAL_SECONDS
            ):
                return
            self._attempts += 1
            self._attempted_at = self._clock()
            try:
                metadata = await self._get_json(self._metadata_url)
                jwks = await self._get_json(metadata["jwks_uri"])
                keys = {
                    entry["kid"]: SigningKey(
                        key=jwt.PyJWK(entry, algorithm="RS256").key,
                        endorsements=_endorsements(entry.get("endorsements")),
                    )
                    for entry in jwks["keys"]
                    if entry.get("kid") and entry.get("kty") == "RSA"
                }
            except (
                aiohttp.ClientError,
                TimeoutError,
                LookupError,
                TypeError,
                AttributeError,
                ValueError,
                jwt.PyJWTError,
            ) as error:
                log.error("could not refresh signing keys from %s: %s", self._metadata_url, error)
                if not self._keys:
                    raise AuthenticationError("signing keys unavailable") from error
                return
            self._keys = keys
            self._fetched_at = self._clock()

    async def _get_json(self, url: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with self._http.get(url, timeout=timeout) as response:
            response.raise_for_status()
            return await response.json(content_type=None)


class ChannelTokenValidator:
    """Checks signature, issuer, audience, expiry, endorsement and the serviceurl claim."""

    def __init__(self, *, app_id: str, issuer: str, keys: OpenIdKeyCache) -> None:
        self._app_id = app_id
        self._issuer = issuer
        self._keys = keys

    async def validate(
        self, auth_header: str, *, channel_id: str, service_url: str
    ) -> ClaimsIdentity:
        token = bearer_token(auth_header)
        signing_key = await signing_key_of(token, self._keys)
        if signing_key.endorsements and channel_id not in signing_key.endorsements:
            raise AuthenticationError("signing key is not endorsed for this channel")
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=self._app_id,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"token rejected: {error}") from error
        if claims.get(AuthenticationConstants.SERVICE_URL_CLAIM) != service_url:
            raise AuthenticationError("serviceurl claim does not match the activity")
        return ClaimsIdentity(claims, True)


async def signing_key_of(token: str, keys: OpenIdKeyCache) -> SigningKey:
    """The published key the token names, once its header asks for an allowed algorithm."""
    header = unverified_header(token)
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise AuthenticationError("token algorithm not allowed")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise AuthenticationError("token has no key id")
    return await keys.get(key_id)


def anonymous_identity() -> ClaimsIdentity:
    """The identity upstream gives every request when no app id is configured."""
    return ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)


def unverified_header(token: str) -> dict[str, Any]:
    """The token's header, to pick the key; `jwt.decode` then checks the whole token.

    `jwt.get_unverified_header` decodes and checks all three segments character by character
    (a third of the validation's CPU) only for `jwt.decode` to do it all again.
    """
    segments = token.split(".")
    if len(segments) != 3:
        raise AuthenticationError("malformed token")
    try:
        header = json.loads(base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4)))
    except (ValueError, binascii.Error) as error:
        raise AuthenticationError("malformed token") from error
    if not isinstance(header, dict):
        raise AuthenticationError("malformed token")
    return header


def bearer_token(auth_header: str) -> str:
    scheme, _, token = (auth_header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing bearer token")
    return token.strip()


def _endorsements(value: Any) -> tuple[str, ...]:
    """Channel ids a key may sign for; a lone string is one channel, not its letters."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
