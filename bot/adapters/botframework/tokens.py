"""Access tokens the bot presents to the Bot Connector when it sends."""

from __future__ import annotations

import asyncio
from typing import Protocol

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError

REFUSED_STATUSES = (400, 401, 403)


class TokenError(Exception):
    """No access token could be obtained for the Bot Connector; never names the secret.

    `refused`: Entra ID (or the host's managed identity) said no, so every send would fail the
    same way until the set-up is fixed; otherwise the token service could not be reached.
    """

    def __init__(self, reason: str, *, refused: bool) -> None:
        super().__init__(reason)
        self.refused = refused


class AccessTokenProvider(Protocol):
    async def token(self) -> str | None:
        """A bearer token, or None when outgoing authentication is off (local use)."""
        ...

    async def aclose(self) -> None:
        """Lets go of what it holds (a credential's HTTP session)."""
        ...


class NoTokenProvider:
    """Local use with no app id: the Agents Playground's connector takes unauthenticated calls."""

    async def token(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None


class FixedTokenProvider:
    """A constant token, for tests and fakes of the Bot Connector."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str | None:
        return self._token

    async def aclose(self) -> None:
        return None


class CredentialTokenProvider:
    """Tokens for one scope from an azure-identity credential, which caches and renews them."""

    def __init__(self, credential: AsyncTokenCredential, scope: str) -> None:
        self._credential = credential
        self._scope = scope
        # One fetch at a time: a burst of sends at start waits for the first token instead of
        # asking Entra fifty times (later calls are answered from the credential's cache).
        self._one_at_a_time = asyncio.Lock()

    async def token(self) -> str | None:
        try:
            async with self._one_at_a_time:
                return (await self._credential.get_token(self._scope)).token
        except ClientAuthenticationError as error:
            raise TokenError(first_line(error), refused=_refused(error)) from error
        except AzureError as error:
            raise TokenError(first_line(error), refused=False) from error

    async def aclose(self) -> None:
        await self._credential.close()


def _refused(error: ClientAuthenticationError) -> bool:
    """Entra said no to these credentials (400/401/403), or there is no identity on this host
    (no answer at all); a 5xx or a 429 after azure-core's retries is an outage, tried again."""
    status = error.status_code
    return status is None or status in REFUSED_STATUSES


def first_line(error: BaseException) -> str:
    """An error's own words, one line of them (Entra's: an AADSTS code and its text)."""
    message = str(getattr(error, "message", None) or error).strip()
    return message.splitlines()[0][:300] if message else type(error).__name__
