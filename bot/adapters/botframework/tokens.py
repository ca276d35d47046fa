"""Access tokens the bot presents to the Bot Connector when it sends."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from msal import ConfidentialClientApplication

REFRESH_MARGIN_SECONDS = 300
BOTFRAMEWORK_TENANT = "botframework.com"


class TokenError(Exception):
    """No access token could be obtained for the Bot Connector."""


class AccessTokenProvider(Protocol):
    async def token(self) -> str | None:
        """A bearer token, or None when outgoing authentication is off (local use)."""
        ...


class NoTokenProvider:
    """Local use with no app id: the Agents Playground's connector takes unauthenticated calls."""

    async def token(self) -> str | None:
        return None


class FixedTokenProvider:
    """A constant token, for tests and fakes of the Bot Connector."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str | None:
        return self._token


class MsalTokenProvider:
    """Client-credentials tokens from Entra ID; MSAL's blocking HTTP runs in a worker thread."""

    def __init__(self, *, app_id: str, secret: str, tenant_id: str, scope: str) -> None:
        self._app_id = app_id
        self._secret = secret
        self._authority = f"https://login.microsoftonline.com/{tenant_id or BOTFRAMEWORK_TENANT}"
        self._app: ConfidentialClientApplication | None = None
        self._scope = scope
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str | None:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            result = await asyncio.to_thread(self._acquire)
            if "access_token" not in result:
                raise TokenError(
                    result.get("error_description") or result.get("error") or "unknown"
                )
            lifetime = float(result.get("expires_in", 3600))
            self._token = result["access_token"]
            self._expires_at = time.monotonic() + max(0.0, lifetime - REFRESH_MARGIN_SECONDS)
            return self._token

    def _acquire(self) -> dict[str, Any]:
        """Runs in a worker thread: MSAL's constructor and token calls both do blocking HTTP."""
        if self._app is None:
            self._app = ConfidentialClientApplication(
                self._app_id, client_credential=self._secret, authority=self._authority
            )
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self._scope])
        return result
