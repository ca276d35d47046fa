"""A local Bot Connector: records what the bot sends and can answer with scripted failures."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class ScriptedFailure:
    status: int
    retry_after: str | None = None


@dataclass
class RecordedCall:
    method: str
    path: str
    authorization: str | None
    body: dict[str, Any] | None


@dataclass
class FakeBotConnector:
    """Serves the v3 conversation routes the bot uses; `service_url` goes into test activities."""

    calls: list[RecordedCall] = field(default_factory=list)
    failures: deque[ScriptedFailure] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations", self._create_conversation)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_route(
            "*", "/v3/conversations/{conversation}/activities/{activity}", self._activity
        )
        return app

    def fail_next(self, *failures: ScriptedFailure) -> None:
        self.failures.extend(failures)

    @property
    def activities(self) -> list[dict[str, Any]]:
        """Bodies of every activity sent or replied (not updates or deletes)."""
        return [
            call.body
            for call in self.calls
            if call.method == "POST" and call.body is not None and "/activities" in call.path
        ]

    def clear(self) -> None:
        self.calls.clear()

    async def _record(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        self.calls.append(
            RecordedCall(request.method, request.path, request.headers.get("Authorization"), body)
        )
        if self.failures:
            failure = self.failures.popleft()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return web.json_response(
                {"error": {"code": "Scripted", "message": f"scripted {failure.status}"}},
                status=failure.status,
                headers=headers,
            )
        return None

    async def _activity(self, request: web.Request) -> web.Response:
        failure = await self._record(request)
        if failure is not None:
            return failure
        if request.method == "DELETE":
            return web.Response(status=200)
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        return web.json_response({"id": f"a{next(self._ids)}"})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        failure = await self._record(request)
        if failure is not None:
            return failure
        return web.json_response({"id": f"a:conversation-{next(self._ids)}", "activityId": "1"})
