"""Validation of the Entra ID token a Teams tab gets by single sign-on (teams-js getAuthToken).

The signature is checked against Entra's published keys (the same key cache as the Bot
Connector's tokens), then the issuer (v1 or v2 endpoint of the city's tenant), the audience (the
app's Application ID URI, or its client id in a v2 token), the tenant and the time, which is the
injected clock's so that tests stand on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from bot.adapters.botframework.auth import (
    ALLOWED_ALGORITHMS,
    CLOCK_SKEW_SECONDS,
    AuthenticationError,
    OpenIdKeyCache,
    bearer_token,
    signing_key_of,
)
from bot.clock import Clock


@dataclass(frozen=True)
class SignedIn:
    """Who the token says is signed in: their Entra object id and display name."""

    object_id: str
    name: str


def entra_issuers(tenant_id: str) -> tuple[str, str]:
    """The two issuers of the tenant's tokens: the v2.0 endpoint's and the v1 one's."""
    return (
        f"https://login.microsoftonline.com/{tenant_id}/v2.0",
        f"https://sts.windows.net/{tenant_id}/",
    )


class TabTokenValidator:
    """Who a tab request's bearer token signs in, or AuthenticationError (answer 401)."""

    def __init__(
        self,
        *,
        tenant_id: str,
        audiences: tuple[str, ...],
        keys: OpenIdKeyCache,
        clock: Clock,
    ) -> None:
        if not tenant_id or not any(audiences):
            raise ValueError("tab sign-in needs the tenant and the app's audience")
        self._tenant_id = tenant_id
        self._issuers = entra_issuers(tenant_id)
        self._audiences = [audience for audience in audiences if audience]
        self._keys = keys
        self._clock = clock

    async def validate(self, auth_header: str) -> SignedIn:
        token = bearer_token(auth_header)
        signing_key = await signing_key_of(token, self._keys)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=self._audiences,
                options={
                    "require": ["exp", "iss", "aud", "tid", "oid"],
                    # Time is checked below against the injected clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"token rejected: {error}") from error
        if claims["iss"] not in self._issuers:
            raise AuthenticationError("token from another issuer")
        if claims["tid"] != self._tenant_id:
            raise AuthenticationError("token from another tenant")
        self._check_time(claims)
        object_id = claims["oid"]
        if not isinstance(object_id, str) or not object_id:
            raise AuthenticationError("token names nobody")
        name = claims.get("name")
        return SignedIn(object_id, name if isinstance(name, str) else "")

    def _check_time(self, claims: dict[str, Any]) -> None:
        now = self._clock().timestamp()
        try:
            expires = float(claims["exp"])
            not_before = float(claims.get("nbf", 0))
        except (TypeError, ValueError) as error:
            raise AuthenticationError("token times are not numbers") from error
        if now > expires + CLOCK_SKEW_SECONDS:
            raise AuthenticationError("token expired")
        if now < not_before - CLOCK_SKEW_SECONDS:
            raise AuthenticationError("token not valid yet")
