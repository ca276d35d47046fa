"""Bot Connector REST client on aiohttp, with Teams' retry rules.

Upstream sends through msrest, whose retry policy never retries POST under urllib3 2, so a 429
or 503 on a reply or proactive send is simply lost, and it builds a new retry policy for every
client (about 4 ms of CPU each, twice per turn). This client reuses one aiohttp session, retries
412/429/500/502/503/504 and timeouts honouring Retry-After, and stops at once on anything else.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from opentelemetry import trace
from yarl import URL

from bot.adapters.botframework.tokens import AccessTokenProvider
from bot.backoff import RetryPolicy, parse_retry_after
from bot.pacing import wait_for_slot
from bot.telemetry.instruments import Instruments, unrecorded
from bot.telemetry.spans import client_call, http_call_attributes, settle_http_call

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ConnectorError(Exception):
    """The Bot Connector refused a call, or it could not be reached after all retries."""

    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"Bot Connector {status or 'unreachable'}: {message}")
        self.status = status
        self.retry_after = retry_after

    @property
    def is_final_for_recipient(self) -> bool:
        """403 (blocked, app removed) and 404 (no such conversation) will never succeed."""
        return self.status in (403, 404)


class BotConnectorClient:
    """The few Bot Connector v3 operations the bot uses."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        tokens: AccessTokenProvider,
        *,
        policy: RetryPolicy | None = None,
        timeout_seconds: float = 15.0,
        sleep: Sleep = asyncio.sleep,
        instruments: Instruments | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._http = http
        self._instruments = instruments or unrecorded()
        self._tracer = tracer or trace.NoOpTracer()
        self._tokens = tokens
        self._policy = policy or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._sleep = sleep

    async def send_to_conversation(
        self, service_url: str, conversation_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        url = _url(service_url, "v3/conversations", conversation_id, "activities")
        return await self._call("POST", url, activity)

    async def reply_to_activity(
        self, service_url: str, conversation_id: str, reply_to_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        url = _url(service_url, "v3/conversations", conversation_id, "activities", reply_to_id)
        return await self._call("POST", url, activity)

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        url = _url(service_url, "v3/conversations", conversation_id, "activities", activity_id)
        return await self._call("PUT", url, activity)

    async def delete_activity(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> None:
        url = _url(service_url, "v3/conversations", conversation_id, "activities", activity_id)
        await self._call("DELETE", url, None)

    async def create_conversation(
        self, service_url: str, parameters: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._call("POST", _url(service_url, "v3/conversations"), parameters)

    async def team_members(self, service_url: str, team_id: str) -> list[dict[str, Any]]:
        """Everyone in a team, page by page (Teams retired the unpaged member list)."""
        members: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            url = _url(service_url, "v3/conversations", team_id, "pagedmembers")
            url = url.with_query(
                {"pageSize": "500", **({"continuationToken": token} if token else {})}
            )
            page = await self._call("GET", url, None)
            found = page.get("members")
            members += [member for member in found or [] if isinstance(member, dict)]
            token = page.get("continuationToken")
            if not token or not found:
                return members

    async def _call(self, method: str, url: URL, body: dict[str, Any] | None) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            status, retry_after, payload = await self._attempt(method, url, body)
            if status is not None and 200 <= status < 300:
                return payload if isinstance(payload, dict) else {}
            if not self._policy.should_retry(status, attempt):
                raise ConnectorError(status, _describe(payload), retry_after)
            wait = self._policy.delay(attempt, retry_after)
            # Not the URL: a personal chat's conversation id names the person.
            log.warning("bot connector %s -> %s; retry %d in %.2fs", method, status, attempt, wait)
            await self._sleep(wait)

    async def _attempt(
        self, method: str, url: URL, body: dict[str, Any] | None
    ) -> tuple[int | None, float | None, Any]:
        """Status, Retry-After in seconds, and the answer's JSON (or text, or the error)."""
        headers = {"User-Agent": "Puhelinbotti"}
        token = await self._tokens.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        await wait_for_slot()
        with client_call(
            self._tracer, f"Bot Connector {method}", http_call_attributes(method, url)
        ) as span:
            try:
                async with self._http.request(
                    method, url, json=body, headers=headers, timeout=self._timeout
                ) as response:
                    text = await response.text()
                    retry_after = parse_retry_after(
                        response.headers.get("Retry-After"), sent=response.headers.get("Date")
                    )
                    if response.status == 429:
                        self._instruments.throttled(retry_after)
                    settle_http_call(span, response.status)
                    return response.status, retry_after, _json_or_text(text)
            except (aiohttp.ClientError, TimeoutError) as error:
                settle_http_call(span, None)
                return None, None, repr(error)


def _url(service_url: str, *parts: str) -> URL:
    """`service_url`, a route, then ids percent-encoded whole (`:`, `;`, `=`, `@`, `/` too).

    The ids go in already encoded: given a plain string, yarl would decode `%3A`, `%3B`, `%40`
    back, and `a:1;messageid=2@thread.tacv2` would reach the wire unescaped.
    """
    head, *ids = parts
    return URL(service_url.rstrip("/")).joinpath(
        *head.split("/"), *(quote(part, safe="") for part in ids), encoded=True
    )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text[:500]


def _describe(payload: Any) -> str:
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            return f"{error.get('code', '')} {error.get('message', '')}".strip()
    return str(payload)[:500]
