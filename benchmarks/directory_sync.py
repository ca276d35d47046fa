"""Directory sync of a city's worth of people: a full sync with 429s, then a delta of changes.

The fake Graph runs in a process of its own, so its CPU does not count against the loop being
measured; the sync runs through the real msgraph-sdk client as `phonebot directory sync` would.
The bot's own app runs in the same process and event loop, answering a steady stream of chat
turns (`--turns-per-second`, employees alternating the menu and "Valitse puhelin"; replies go
to a fake Bot Connector in another process), as it would while a sync runs in the background.
A ticker task measures how long the event loop is kept from running (max and p99 lag) and
every turn is timed; Python's garbage collector is timed too, because a full collection of this
process's heap is the one pause a sync can trigger that is not the sync's own code (see
`--gc-freeze`). Prints JSON per database.

    .venv/bin/python benchmarks/directory_sync.py [--users 6400] [--changes 50]
        [--throttle-every 3] [--retry-after 1] [--database sqlite|postgresql] [--gc-freeze]
        [--turns-per-second 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from turn_latency import Conversations, Sample, Server, timed_post, wait_ready

from bot.adapters.botframework.tokens import FixedTokenProvider
from bot.adapters.graph.client import GraphDirectory
from bot.adapters.graph.fake_graph import FakeGraph
from bot.app import create_app
from bot.clock import system_clock
from bot.db.engine import create_session_factory
from bot.db.scratch import scratch_postgres, scratch_sqlite
from bot.directory.sync import DirectorySync
from bot.settings import Settings

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TICK = 0.002
WARM_UP_USERS = 10
JSON_HEADERS = {"Content-Type": "application/json"}


def serve_fake_graph(connection: Connection) -> None:
    """The child process: a FakeGraph, driven by (method, args, kwargs) messages."""
    graph = FakeGraph().run_in_thread()
    connection.send(graph.port)
    while (message := connection.recv()) is not None:
        name, args, kwargs = message
        connection.send(getattr(graph, name)(*args, **kwargs))
    graph.stop_thread()


class RemoteGraph:
    """The parent's handle on the fake in the child process."""

    def __init__(self) -> None:
        self._connection, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=serve_fake_graph, args=(child,), daemon=True)
        self._process.start()
        self.base_url = f"http://127.0.0.1:{self._connection.recv()}/v1.0"

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._connection.send((name, args, kwargs))
        return self._connection.recv()

    def close(self) -> None:
        self._connection.send(None)
        self._process.join(timeout=10)


class LoopWatch:
    """Event-loop lag from a ticker task, and garbage-collector pauses, while active."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif info["generation"] == 2:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(time.perf_counter() - started - TICK)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        ticker = asyncio.create_task(self._tick(stop))
        gc.callbacks.append(self._on_gc)
        try:
            yield
        finally:
            gc.callbacks.remove(self._on_gc)
            stop.set()
            await ticker

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.lags) or [0.0]
        return {
            "max_loop_lag_ms": round(ordered[-1] * 1000, 1),
            "p99_loop_lag_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
            "full_gc_collections": len(self.gc_pauses),
            "max_full_gc_ms": round(max(self.gc_pauses, default=0.0) * 1000, 1),
        }


class ChatStream:
    """Turns posted to the bot's app at a steady rate, each timed, until stopped."""

    def __init__(self, engine: AsyncEngine, connector_url: str, rate: float) -> None:
        self._engine = engine
        self._rate = rate
        self._conversations = Conversations(50, connector_url)
        self.sample = Sample()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChatStream]:
        app = create_app(
            Settings(app_id="", background_jobs=False),
            engine=self._engine,
            token_provider=FixedTokenProvider("bench"),
        )
        server = TestServer(app)
        await server.start_server()
        async with aiohttp.ClientSession() as session:
            self._session = session
            self._url = str(server.make_url("/api/messages"))
            for user, body in self._conversations.next_turns(50):
                await self._post(user, body, self.sample)
            self.sample = Sample()
            yield self
        await server.close()

    async def during(self, work: Any) -> Any:
        """Run `work` while turns arrive; the turns of that time are kept in `sample`."""
        self.sample = Sample()
        task = asyncio.ensure_future(work)
        posts: set[asyncio.Task[None]] = set()
        started = time.perf_counter()
        sent = 0
        while not task.done():
            for user, body in self._conversations.next_turns(1):
                post = asyncio.create_task(self._post(user, body, self.sample))
                posts.add(post)
                post.add_done_callback(posts.discard)
            sent += 1
            await asyncio.wait(
                [task], timeout=max(0.0, started + sent / self._rate - time.perf_counter())
            )
        await asyncio.gather(*posts)
        self.sample.wall = time.perf_counter() - started
        return task.result()

    async def _post(self, user: Any, body: bytes, sample: Sample) -> None:
        async with self._conversations.lock(user):
            await timed_post(self._session, self._url, body, JSON_HEADERS, sample)

    def summary(self) -> dict[str, Any]:
        return {
            "turns": len(self.sample.latencies),
            "turn_errors": sum(self.sample.failures.values()),
            "turn_p50_ms": round(self.sample.percentile_ms(0.5), 1),
            "turn_p99_ms": round(self.sample.percentile_ms(0.99), 1),
            "turn_max_ms": round(self.sample.percentile_ms(1.0), 1),
        }


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[AsyncEngine]:
    if kind == "sqlite":
        async with scratch_sqlite(workdir, f"{uuid.uuid4().hex}.sqlite3") as engine:
            yield engine
        return
    async with scratch_postgres(POSTGRES_URL) as engine:
        yield engine


async def sync_once(engine: AsyncEngine, base_url: str, *, full: bool = False) -> Any:
    directory = GraphDirectory(base_url=base_url, max_retries=10)
    try:
        return await DirectorySync(
            directory, create_session_factory(engine), clock=system_clock
        ).run(full=full)
    finally:
        await directory.aclose()


async def measure(kind: str, options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    graph = RemoteGraph()
    connector = Server("connector", "serve_connector.py", [], workdir)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, connector, "/bench/stats")
        async with database(kind, workdir) as engine:
            graph.call("add_synthetic_users", WARM_UP_USERS)
            cold = LoopWatch()
            async with cold.watching():
                await sync_once(engine, graph.base_url)
        async with (
            database(kind, workdir) as engine,
            ChatStream(engine, connector.url, options.turns_per_second).running() as chat,
        ):
            ids = graph.call("add_synthetic_users", options.users - WARM_UP_USERS)
            graph.call("throttle", options.throttle_every, retry_after=options.retry_after)
            before = len(graph.call("requests_to", "/v1.0/users"))
            full = LoopWatch()
            async with full.watching():
                started = time.perf_counter()
                full_report = await chat.during(sync_once(engine, graph.base_url, full=True))
                full_seconds = time.perf_counter() - started
            full_chat = chat.summary()
            throttled = sum(
                request.status == 429
                for request in graph.call("requests_to", "/v1.0/users")[before:]
            )
            graph.call("throttle", None)
            changed = ids[: options.changes]
            for number, aad_id in enumerate(changed):
                if number % 10 == 0:
                    graph.call("disable_user", aad_id)
                else:
                    graph.call("update_user", aad_id, department="Kaupunkiympäristö")
            delta = LoopWatch()
            async with delta.watching():
                started = time.perf_counter()
                delta_report = await chat.during(sync_once(engine, graph.base_url))
                delta_seconds = time.perf_counter() - started
            delta_chat = chat.summary()
    finally:
        graph.close()
        connector.stop()
    waits = throttled * options.retry_after
    return {
        "database": kind,
        "users": options.users,
        "gc_frozen": options.gc_freeze,
        "full_sync": {
            "seconds": round(full_seconds, 3),
            "throttled_429": throttled,
            "retry_after_wait_seconds": waits,
            "seconds_without_waits": round(full_seconds - waits, 3),
            "created": full_report.created,
            **full.summary(),
            **full_chat,
        },
        "delta_sync": {
            "changes": len(changed),
            "seconds": round(delta_seconds, 3),
            "updated": delta_report.updated,
            **delta.summary(),
            **delta_chat,
        },
        "first_sync_of_process": cold.summary(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=6400)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--throttle-every", type=int, default=3, help="every Nth request: 429")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--turns-per-second", type=float, default=20.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="move start-up objects out of the collector's reach first, as a server would",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.gc_freeze:
        gc.collect()
        gc.freeze()
    with tempfile.TemporaryDirectory() as workdir:
        for kind in options.database or ["sqlite", "postgresql"]:
            result = asyncio.run(measure(kind, options, Path(workdir)))
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
