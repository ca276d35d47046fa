"""A local Bot Connector that behaves like Teams: records what the bot sends, enforces Teams'
rate limits, knows who installed the app, and fails at configurable rates.

Everything is off by default: no limits, no injected faults, every conversation exists and the
app is installed for everyone. Tests switch on what they need; the benchmark and the demo run it
standalone (`python -m bot.adapters.botframework.fake_connector --help`).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bot.adapters.botframework.fake_connector.limits import Clock, Limits, RateLimiter
from bot.adapters.loop_thread import LoopThread

__all__ = [
    "Delivery",
    "FakeBotConnector",
    "Faults",
    "Limits",
    "Outage",
    "RateLimiter",
    "RecordedCall",
    "ScriptedFailure",
    "start_site",
]

TIMEOUT: Literal["timeout"] = "timeout"


@dataclass
class ScriptedFailure:
    status: int
    retry_after: str | None = None
    date: str | None = None  # the answer's Date header; the real time when None


@dataclass
class RecordedCall:
    method: str
    path: str
    authorization: str | None
    body: dict[str, Any] | None


@dataclass(frozen=True)
class Delivery:
    conversation_id: str
    activity_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how slowly, drawn from an RNG seeded with `seed` (reproducible)."""

    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    server_errors: tuple[int, ...] = (500, 502, 503, 504)
    rate_timeout: float = 0.0
    hang_seconds: float = 30.0
    timeout_delivers: bool = False
    latency: float = 0.0
    jitter: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Outage:
    """The connector is down from `start` to `end` (its clock): every request answers one of
    `statuses`, in turn, and nothing is delivered."""

    start: float
    end: float = math.inf
    statuses: tuple[int, ...] = (500, 503)

    def covers(self, moment: float) -> bool:
        return self.start <= moment < self.end


@dataclass
class FakeBotConnector:
    """Serves the v3 conversation routes the bot uses; `service_url` goes into test activities.

    `installed` None means the app is installed for everyone; `blocked` holds AAD object ids (or
    conversation ids) whose conversations answer 403; `unknown_conversations` answer 404; the
    member lists of `unreadable_teams` answer 503 (an outage); during an `outage` every request
    answers 5xx.
    """

    calls: list[RecordedCall] = field(default_factory=list)
    failures: deque[ScriptedFailure] = field(default_factory=deque)
    limits: Limits | None = None
    faults: Faults = field(default_factory=Faults)
    clock: Clock = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    installed: set[str] | None = None
    blocked: set[str] = field(default_factory=set)
    unknown_conversations: set[str] = field(default_factory=set)
    team_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unreadable_teams: set[str] = field(default_factory=set)
    outage: Outage | None = None
    deliveries: list[Delivery] = field(default_factory=list, init=False)
    updates: list[Delivery] = field(default_factory=list, init=False)
    throttled: int = field(default=0, init=False)
    forbidden: int = field(default=0, init=False)
    not_found: int = field(default=0, init=False)
    scripted: int = field(default=0, init=False)
    down: int = field(default=0, init=False)
    injected: Counter[str] = field(default_factory=Counter, init=False)
    _per_conversation: Counter[str] = field(default_factory=Counter, init=False)
    _owners: dict[str, str] = field(default_factory=dict, init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)
    _limiter: RateLimiter | None = field(default=None, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False)
    _latency_rng: random.Random = field(default_factory=random.Random, init=False)
    _hanging: set[asyncio.Future[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._reset_limits_and_dice()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations", self._create_conversation)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_route(
            "*", "/v3/conversations/{conversation}/activities/{activity}", self._activity
        )
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        app.router.add_get("/_fake/summary", self._summary)
        app.router.add_post("/_fake/reset", self._reset)
        app.router.add_post("/_fake/installed/{user}", self._installed)
        app.on_shutdown.append(self._release_on_shutdown)
        return app

    def fail_next(self, *failures: ScriptedFailure) -> None:
        self.failures.extend(failures)

    def go_down(self, seconds: float = math.inf, statuses: tuple[int, ...] = (500, 503)) -> None:
        """An outage from now (this connector's clock) for `seconds`."""
        start = self.clock()
        self.outage = Outage(start, start + seconds, statuses)

    def mark_installed(self, aad_object_id: str) -> None:
        """The app was installed for this user (the fake Graph calls this)."""
        if self.installed is not None:
            self.installed.add(aad_object_id)

    def conversation_for(self, aad_object_id: str) -> str:
        """The 1:1 conversation id Teams keeps for this user: the same on every create."""
        conversation_id = f"a:1on1-{aad_object_id}"
        self._owners[conversation_id] = aad_object_id
        return conversation_id

    @property
    def activities(self) -> list[dict[str, Any]]:
        """Bodies of every activity delivered by a send or reply (not updates or deletes)."""
        return [delivery.body for delivery in self.deliveries]

    @property
    def hanging(self) -> int:
        """Requests held open by an injected timeout right now."""
        return len(self._hanging)

    def delivered_to(self, conversation_id: str) -> list[dict[str, Any]]:
        return [d.body for d in self.deliveries if d.conversation_id == conversation_id]

    def deliveries_by_recipient(self) -> Counter[str]:
        """Delivered activities per conversation id."""
        return Counter(self._per_conversation)

    def duplicates(self) -> dict[str, int]:
        """Conversations that got more than one activity (the benchmark sends one each)."""
        return {key: count for key, count in self._per_conversation.items() if count > 1}

    def summary(self) -> dict[str, Any]:
        duplicates = self.duplicates()
        return {
            "received": len(self.calls),
            "delivered": len(self.deliveries),
            "throttled": self.throttled,
            "injected": dict(sorted(self.injected.items())),
            "scripted": self.scripted,
            "down": self.down,
            "forbidden": self.forbidden,
            "not_found": self.not_found,
            "conversations": len(self._per_conversation),
            "duplicate_conversations": len(duplicates),
            "duplicate_deliveries": sum(duplicates.values()) - len(duplicates),
            "duplicates": duplicates,
        }

    def clear(self) -> None:
        """Forget what was received and delivered, and the counters."""
        self.calls.clear()
        self.deliveries.clear()
        self.updates.clear()
        self._per_conversation.clear()
        self.injected.clear()
        self.throttled = self.forbidden = self.not_found = self.scripted = self.down = 0

    def reset(self) -> None:
        """`clear`, plus empty rate windows, reseeded dice, no scripted failures, no outage."""
        self.clear()
        self.failures.clear()
        self.outage = None
        self._reset_limits_and_dice()

    def _reset_limits_and_dice(self) -> None:
        self._limiter = RateLimiter(self.limits, self.clock) if self.limits else None
        self._rng = random.Random(self.faults.seed)
        self._latency_rng = random.Random(self.faults.seed + 1)

    def release_hanging(self) -> None:
        """Answer every request an injected timeout holds open (call on the server's loop)."""
        for release in self._hanging:
            if not release.done():
                release.set_result(None)

    @contextmanager
    def running_in_thread(self, port: int = 0) -> Iterator[str]:
        """Serve on 127.0.0.1 from a thread with its own event loop; yields the service URL."""
        server = _ThreadedServer(self, port)
        try:
            yield server.start()
        finally:
            server.stop()

    async def _receive(self, request: web.Request) -> dict[str, Any] | None:
        body = await request.json() if request.can_read_body else None
        self.calls.append(
            RecordedCall(request.method, request.path, request.headers.get("Authorization"), body)
        )
        return body

    async def _serve(
        self,
        *,
        conversation: str | None,
        member: str | None,
        perform: Callable[[], web.Response],
    ) -> web.Response:
        """Scripted failure, outage, latency, limits, roster, then dice; `perform` only if all
        pass."""
        if self.failures:
            failure = self.failures.popleft()
            self.scripted += 1
            return _error(
                failure.status,
                "Scripted",
                f"scripted {failure.status}",
                failure.retry_after,
                failure.date,
            )
        outage = self.outage
        if outage is not None and outage.covers(self.clock()):
            status = outage.statuses[self.down % len(outage.statuses)]
            self.down += 1
            return _error(status, "ServiceUnavailable", f"outage {status}")
        await self._latency()
        if self._limiter is not None:
            wait = self._limiter.admit(conversation)
            if wait > 0:
                self.throttled += 1
                retry_after = str(max(1, math.ceil(wait)))
                return _error(429, "Throttled", "Too many requests.", retry_after)
        refusal = self._roster(conversation, member)
        if refusal is not None:
            return refusal
        fault = self._roll()
        if fault is None:
            return perform()
        self.injected[str(fault)] += 1
        if fault == 429:
            return _error(429, "Throttled", "Too many requests.", str(self.faults.retry_after))
        if isinstance(fault, int):
            return _error(fault, "ServiceError", f"injected {fault}")
        if self.faults.timeout_delivers:
            perform()
        await self._hang()
        return _error(504, "GatewayTimeout", "The operation timed out.")

    def _roster(self, conversation: str | None, member: str | None) -> web.Response | None:
        if conversation is not None:
            if conversation in self.unknown_conversations:
                self.not_found += 1
                return _error(404, "ConversationNotFound", "Conversation not found.")
            owner = self._owners.get(conversation)
            if conversation in self.blocked or (owner is not None and owner in self.blocked):
                self.forbidden += 1
                return _error(
                    403, "ConversationBlockedByUser", "User blocked the conversation with the bot."
                )
        elif self.installed is not None and (member is None or member not in self.installed):
            self.forbidden += 1
            return _error(403, "Forbidden", "Bot is not installed in user's personal scope")
        return None

    def _roll(self) -> int | Literal["timeout"] | None:
        faults = self.faults
        draw = self._rng.random()
        if draw < faults.rate_429:
            return 429
        draw -= faults.rate_429
        if draw < faults.rate_5xx:
            return self._rng.choice(faults.server_errors)
        draw -= faults.rate_5xx
        if draw < faults.rate_timeout:
            return TIMEOUT
        return None

    async def _latency(self) -> None:
        base, jitter = self.faults.latency, self.faults.jitter
        if base > 0 or jitter > 0:
            await self.sleep(max(0.0, self._latency_rng.uniform(base - jitter, base + jitter)))

    async def _hang(self) -> None:
        release = asyncio.get_running_loop().create_future()
        self._hanging.add(release)
        try:
            await asyncio.wait_for(release, self.faults.hang_seconds)
        except TimeoutError:
            pass
        finally:
            self._hanging.discard(release)

    def _deliver(self, conversation_id: str, body: dict[str, Any]) -> str:
        activity_id = f"a{next(self._ids)}"
        self.deliveries.append(Delivery(conversation_id, activity_id, body))
        self._per_conversation[conversation_id] += 1
        return activity_id

    async def _activity(self, request: web.Request) -> web.Response:
        body = await self._receive(request)
        conversation = request.match_info["conversation"]

        def perform() -> web.Response:
            if request.method == "DELETE":
                return web.Response(status=200)
            if request.method == "PUT":
                activity_id = request.match_info["activity"]
                self.updates.append(Delivery(conversation, activity_id, body or {}))
                return web.json_response({"id": activity_id})
            return web.json_response({"id": self._deliver(conversation, body or {})})

        return await self._serve(conversation=conversation, member=None, perform=perform)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await self._receive(request) or {}
        member = _first_member(body)
        channel = _channel_of(body) if body.get("isGroup") else None

        def perform() -> web.Response:
            activity = body.get("activity")
            if channel is not None and isinstance(activity, dict):
                # A new post in a team channel: Teams answers with the thread's conversation id.
                activity_id = self._deliver(channel, activity)
                return web.json_response(
                    {"id": f"{channel};messageid={activity_id}", "activityId": activity_id}
                )
            if member is not None and not body.get("isGroup"):
                conversation = self.conversation_for(member)
            else:
                conversation = f"a:conversation-{next(self._ids)}"
            answer = {"id": conversation}
            activity = body.get("activity")
            if isinstance(activity, dict):
                answer["activityId"] = self._deliver(conversation, activity)
            return web.json_response(answer)

        return await self._serve(conversation=channel, member=member, perform=perform)

    async def _paged_members(self, request: web.Request) -> web.Response:
        """A team's roster in one page (the bot asks for 500 at a time)."""
        await self._receive(request)
        team = request.match_info["conversation"]
        if team in self.unreadable_teams:
            return _error(503, "ServiceUnavailable", "The service is unavailable.")
        return web.json_response({"members": self.team_members.get(team, [])})

    async def _summary(self, request: web.Request) -> web.Response:
        return web.json_response(self.summary())

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response(self.summary())

    async def _installed(self, request: web.Request) -> web.Response:
        self.mark_installed(request.match_info["user"])
        return web.json_response({"installed": request.match_info["user"]})

    async def _release_on_shutdown(self, app: web.Application) -> None:
        self.release_hanging()


def _channel_of(body: dict[str, Any]) -> str | None:
    channel_data = body.get("channelData")
    channel = channel_data.get("channel") if isinstance(channel_data, dict) else None
    found = channel.get("id") if isinstance(channel, dict) else None
    return found if isinstance(found, str) else None


def _first_member(body: dict[str, Any]) -> str | None:
    members = body.get("members")
    if isinstance(members, list) and members and isinstance(members[0], dict):
        member = members[0].get("id")
        return member if isinstance(member, str) else None
    return None


def _error(
    status: int, code: str, message: str, retry_after: str | None = None, date: str | None = None
) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    if date:
        headers["Date"] = date
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


async def start_site(connector: FakeBotConnector, port: int) -> tuple[web.AppRunner, int]:
    """Serve on 127.0.0.1:`port` (0 picks one); returns the runner and the bound port."""
    runner = web.AppRunner(connector.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, runner.addresses[0][1]


class _ThreadedServer:
    """The connector on its own event loop, so a blocked or busy caller loop cannot stall it."""

    def __init__(self, connector: FakeBotConnector, port: int) -> None:
        self._connector = connector
        self._port = port
        self._loop_thread = LoopThread()
        self._runner: web.AppRunner | None = None

    def start(self) -> str:
        self._runner, port = self._loop_thread.run(start_site(self._connector, self._port))
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            self._loop_thread.run(self._runner.cleanup())
        self._loop_thread.stop()
