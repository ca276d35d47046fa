"""A local Microsoft Graph for tests, benchmarks and the demo.

It serves what the directory sync and app installation use, the way Graph does: `$top` paging
with absolute `@odata.nextLink`s, `users/delta` rounds ending in an `@odata.deltaLink` (later rounds
carry only what changed, and `@removed` for deleted users), group members, the organisation's
Teams app catalog (found by manifest id), and installation of a published app by its catalog id
(201, then 409). It can answer 429 with Retry-After, or any status, on demand.
Run it in the test's own loop (`async with FakeGraph() as graph`) or in a thread of its own
(`run_in_thread()`) for code that runs its own event loop, such as the CLI.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.adapters.loop_thread import LoopThread

DEFAULT_DEPARTMENTS = (
    "Sivistystoimiala",
    "Perusturva",
    "Tekninen toimiala",
    "Konsernihallinto",
    "Pori Sinfonietta",
)
MAX_PAGE_SIZE = 999
DELTA_PAGE_SIZE = 500
USER_TYPE = "#microsoft.graph.user"
CATALOG_CLAUSE = re.compile(r"(\w+) eq '((?:[^']|'')*)'")
CATALOG_FILTER = re.compile(rf"{CATALOG_CLAUSE.pattern}(?:\s+and\s+{CATALOG_CLAUSE.pattern})*")
CATALOG_FIELDS = frozenset({"id", "externalId", "distributionMethod"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; `at` is `time.monotonic()` on arrival."""

    method: str
    path: str
    query: dict[str, str]
    at: float
    status: int
    authorization: str | None = None


@dataclass(frozen=True)
class _Change:
    seq: int
    user_id: str
    kind: str
    properties: frozenset[str]


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | None


class FakeGraph:
    """Users, groups and Teams app installs of one fake tenant, served over HTTP."""

    def __init__(
        self,
        *,
        on_install: Callable[[str], Awaitable[None] | None] | None = None,
        delta_page_size: int = DELTA_PAGE_SIZE,
        published_apps: Iterable[str] = (),
    ) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[dict[str, str]]] = {}
        self.catalog: dict[str, str] = {}
        self.installed: dict[str, set[str]] = {}
        self.requests: list[RecordedRequest] = []
        self.on_install = on_install
        self.delta_page_size = delta_page_size
        self.port = 0
        self._lock = threading.Lock()
        self._seq = 0
        self._expired_before = 0
        self._changes: list[_Change] = []
        self._faults: dict[int, _Fault] = {}
        self._throttle: tuple[int, int] | None = None
        self._served = 0
        self._runner: web.AppRunner | None = None
        self._loop_thread: LoopThread | None = None
        for manifest_id in published_apps:
            self.publish_app(manifest_id)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    # The tenant: what tests and benchmarks change between syncs.

    def add_user(self, **properties: Any) -> str:
        """A new user, given by Graph property names; returns their object id."""
        user_id = str(properties.pop("id", None) or uuid.uuid4())
        user = {"id": user_id, "accountEnabled": True, **properties}
        with self._lock:
            self.users[user_id] = user
            self._record(user_id, "created", frozenset(user))
        return user_id

    def add_synthetic_users(
        self, count: int, *, departments: Iterable[str] = DEFAULT_DEPARTMENTS
    ) -> list[str]:
        """Many plausible users at once, cheaply (6,400 in milliseconds)."""
        names = itertools.cycle(departments)
        with self._lock:
            start = len(self.users)
            ids = []
            for number in range(start + 1, start + count + 1):
                user_id = f"{number:08x}-5a1e-4000-8000-{number:012x}"
                self.users[user_id] = {
                    "id": user_id,
                    "displayName": f"Testi Henkilö {number:05d}",
                    "userPrincipalName": f"testi.henkilo{number:05d}@pori.example",
                    "employeeId": f"{200000 + number}",
                    "department": next(names),
                    "preferredLanguage": "fi-FI" if number % 10 else "en-US",
                    "accountEnabled": True,
                }
                self._record(user_id, "created", frozenset(self.users[user_id]))
                ids.append(user_id)
        return ids

    def add_demo_people(self, data: dict[str, Any]) -> dict[str, str]:
        """The demo's people (`bot/demo/data.yaml`), each in their unit's department.

        Returns the department-to-unit mapping that puts them back in the demo's units.
        """
        units = {unit["code"]: unit["name_fi"] for unit in data["units"]}
        for person in data["employees"]:
            self.add_user(
                id=person["aad_object_id"],
                displayName=person["name"],
                userPrincipalName=person["upn"],
                employeeId=person["number"],
                department=units[person["unit"]],
                preferredLanguage=person["language"],
            )
        return {name: code for code, name in units.items()}

    def update_user(self, user_id: str, **properties: Any) -> None:
        """Change some properties; a later delta round reports them."""
        with self._lock:
            self.users[user_id].update(properties)
            self._record(user_id, "updated", frozenset(properties))

    def disable_user(self, user_id: str) -> None:
        self.update_user(user_id, accountEnabled=False)

    def remove_user(self, user_id: str) -> None:
        with self._lock:
            del self.users[user_id]
            self._record(user_id, "removed", frozenset())

    def set_group(self, group_id: str, user_ids: Iterable[str], *, devices: int = 0) -> None:
        """A group's members: the given users, plus some non-user members the sync must skip."""
        members = [{"@odata.type": USER_TYPE, "id": user_id} for user_id in user_ids]
        members += [
            {"@odata.type": "#microsoft.graph.device", "id": f"device-{group_id}-{number}"}
            for number in range(devices)
        ]
        with self._lock:
            self.groups[group_id] = members

    def publish_app(self, manifest_id: str) -> str:
        """Upload an app to the organisation's catalog; returns the id the catalog gives it."""
        with self._lock:
            return self.catalog.setdefault(manifest_id, str(uuid.uuid4()))

    def expire_delta_links(self) -> None:
        """Every delta link given out so far now answers 410 Gone, as stale links do."""
        with self._lock:
            self._expired_before = self._seq + 1

    # Failures on demand.

    def fail_next(
        self, count: int = 1, *, status: int = 429, retry_after: int | None = 1, after: int = 0
    ) -> None:
        """The `count` requests following the next `after` ones are answered with `status`."""
        with self._lock:
            first = self._served + after
            for number in range(first, first + count):
                self._faults[number] = _Fault(status, retry_after if status == 429 else None)

    def throttle(self, every: int | None, *, retry_after: int = 1) -> None:
        """Answer every `every`-th request with 429 and Retry-After (None: stop throttling)."""
        with self._lock:
            self._throttle = (every, retry_after) if every else None

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        return [request for request in self.requests if path_part in request.path]

    # Serving.

    async def start(self) -> FakeGraph:
        """Serve in the running event loop."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/v1.0/users", self._list_users)
        app.router.add_get("/v1.0/users/delta", self._delta)
        app.router.add_get("/v1.0/users/delta()", self._delta)
        app.router.add_get("/v1.0/groups/{group_id}/members", self._members)
        app.router.add_get("/v1.0/appCatalogs/teamsApps", self._teams_apps)
        app.router.add_post("/v1.0/users/{user_id}/teamwork/installedApps", self._install)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGraph:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def run_in_thread(self) -> FakeGraph:
        """Serve from a thread with its own loop, for callers that run their own loop."""
        self._loop_thread = LoopThread()
        self._loop_thread.run(self.start())
        return self

    def stop_thread(self) -> None:
        if self._loop_thread is None:
            return
        self._loop_thread.run(self.close())
        self._loop_thread.stop()
        self._loop_thread = None

    # Internals.

    def _record(self, user_id: str, kind: str, properties: frozenset[str]) -> None:
        self._seq += 1
        self._changes.append(_Change(self._seq, user_id, kind, properties))

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        arrived = time.monotonic()
        with self._lock:
            number = self._served
            self._served += 1
            fault = self._faults.pop(number, None)
            if fault is None and self._throttle and (number + 1) % self._throttle[0] == 0:
                fault = _Fault(429, self._throttle[1])
        if fault is not None:
            response: web.StreamResponse = _error(fault.status, "injected", "Injected failure")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = _error(error.status, error.reason, error.text or error.reason)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                arrived,
                response.status,
                request.headers.get("Authorization"),
            )
        )
        return response

    async def _list_users(self, request: web.Request) -> web.Response:
        select = _select(request)
        top = int(request.query.get("$top", "100"))
        if not 1 <= top <= MAX_PAGE_SIZE:
            return _error(400, "Request_UnsupportedQuery", "Invalid page size specified")
        offset = int(request.query.get("$skiptoken", "0"))
        with self._lock:
            ids = list(self.users)
            page = [_project(self.users[user_id], select) for user_id in ids[offset : offset + top]]
        body: dict[str, Any] = {
            "@odata.context": f"{_base(request)}/$metadata#users",
            "value": page,
        }
        if offset + top < len(ids):
            params = {**_params(select), "$top": str(top), "$skiptoken": str(offset + top)}
            body["@odata.nextLink"] = _link(request, "users", params)
        return _json(body)

    async def _delta(self, request: web.Request) -> web.Response:
        select = _select(request)
        query = request.query
        with self._lock:
            if query.get("$deltatoken") == "latest":
                return _json({"value": [], "@odata.deltaLink": self._delta_link(request, select)})
            if "$skiptoken" in query:
                since, until, offset = (int(part) for part in query["$skiptoken"].split("."))
            elif "$deltatoken" in query:
                since, until, offset = int(query["$deltatoken"]), self._seq, 0
            else:
                since, until, offset = -1, self._seq, 0
            if 0 <= since < self._expired_before:
                return _error(410, "syncStateNotFound", "The delta token has expired")
            entries = self._delta_entries(since, until, select)
            page = entries[offset : offset + self.delta_page_size]
            body: dict[str, Any] = {"value": page}
            if offset + self.delta_page_size < len(entries):
                token = f"{since}.{until}.{offset + self.delta_page_size}"
                body["@odata.nextLink"] = _link(
                    request, "users/delta", {**_params(select), "$skiptoken": token}
                )
            else:
                body["@odata.deltaLink"] = self._delta_link(request, select, until)
        return _json(body)

    def _delta_link(self, request: web.Request, select: list[str] | None, seq: int = -1) -> str:
        token = str(self._seq if seq < 0 else seq)
        return _link(request, "users/delta", {**_params(select), "$deltatoken": token})

    def _delta_entries(self, since: int, until: int, select: list[str] | None) -> list[dict]:
        """A round's entries: everyone at first; later, only who changed, with what changed."""
        if since < 0:
            return [_project(user, select) for user in self.users.values()]
        changed: dict[str, set[str] | None] = {}
        for change in self._changes:
            if not since < change.seq <= until:
                continue
            known = changed.get(change.user_id, set())
            if change.kind == "created" or known is None:
                changed[change.user_id] = None
            else:
                changed[change.user_id] = known | change.properties
        entries = []
        for user_id, properties in changed.items():
            user = self.users.get(user_id)
            if user is None:
                entries.append({"id": user_id, "@removed": {"reason": "deleted"}})
            elif properties is None:
                entries.append(_project(user, select))
            else:
                partial = {key: user[key] for key in properties if key in user}
                entries.append({"id": user_id, **_project(partial, select)})
        return entries

    async def _members(self, request: web.Request) -> web.Response:
        group_id = request.match_info["group_id"]
        top = int(request.query.get("$top", "100"))
        offset = int(request.query.get("$skiptoken", "0"))
        with self._lock:
            if group_id not in self.groups:
                return _error(404, "Request_ResourceNotFound", f"Group {group_id} not found")
            members = self.groups[group_id]
            page = members[offset : offset + top]
        body: dict[str, Any] = {"value": page}
        if offset + top < len(members):
            params = {
                **_params(_select(request)),
                "$top": str(top),
                "$skiptoken": str(offset + top),
            }
            body["@odata.nextLink"] = _link(request, f"groups/{group_id}/members", params)
        return _json(body)

    async def _teams_apps(self, request: web.Request) -> web.Response:
        """The catalog, filtered as Graph does for `field eq 'value'` clauses joined by `and`."""
        wanted = _catalog_filter(request.query.get("$filter", ""))
        if wanted is None or not wanted.keys() <= CATALOG_FIELDS:
            return _error(400, "BadRequest", "Unsupported $filter for teamsApps")
        with self._lock:
            apps = [
                {"id": catalog_id, "externalId": manifest_id, "distributionMethod": "organization"}
                for manifest_id, catalog_id in self.catalog.items()
            ]
        found = [app for app in apps if all(app[key] == value for key, value in wanted.items())]
        return _json(
            {
                "@odata.context": f"{_base(request)}/$metadata#appCatalogs/teamsApps",
                "value": [_project(app, _select(request)) for app in found],
            }
        )

    async def _install(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        payload = await request.json()
        binding = str(payload.get("teamsApp@odata.bind", ""))
        app_id = (
            binding.rstrip("/").rsplit("/teamsApps/", 1)[-1] if "/teamsApps/" in binding else ""
        )
        if not app_id:
            return _error(400, "BadRequest", "teamsApp@odata.bind is missing")
        with self._lock:
            if user_id not in self.users:
                return _error(404, "NotFound", f"User {user_id} not found")
            if app_id not in self.catalog.values():
                return _error(404, "NotFound", f"App {app_id} is not in the app catalog")
            apps = self.installed.setdefault(user_id, set())
            if app_id in apps:
                return _error(409, "Conflict", "App is already installed for this user")
            apps.add(app_id)
        if self.on_install is not None:
            result = self.on_install(user_id)
            if inspect.isawaitable(result):
                await result
        return web.Response(status=201)


def _catalog_filter(expression: str) -> dict[str, str] | None:
    """`a eq 'x' and b eq 'y'` as {a: x, b: y}; None for anything else."""
    expression = expression.strip()
    if expression and CATALOG_FILTER.fullmatch(expression) is None:
        return None
    return {match[1]: match[2].replace("''", "'") for match in CATALOG_CLAUSE.finditer(expression)}


def _select(request: web.Request) -> list[str] | None:
    value = request.query.get("$select")
    return value.split(",") if value else None


def _params(select: list[str] | None) -> dict[str, str]:
    return {"$select": ",".join(select)} if select else {}


def _project(user: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return dict(user)
    return {key: user[key] for key in select if key in user}


def _base(request: web.Request) -> str:
    return f"{request.url.origin()}/v1.0"


def _link(request: web.Request, path: str, params: dict[str, str]) -> str:
    """Absolute, as Graph's links are."""
    return f"{_base(request)}/{path}?{urlencode(params, safe='$,')}"


def _json(body: dict[str, Any]) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), content_type="application/json")


def _error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"error": {"code": code, "message": message}}).encode(),
        content_type="application/json",
    )
