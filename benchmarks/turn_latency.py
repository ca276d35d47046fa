"""Turns through `/api/messages`: Puhelinbotti (auth on, database) beside the stock echo bot.

Every server runs in its own subprocess: Puhelinbotti (`serve_puhelinbotti.py`, real JWT
validation against a FakeOpenIdServer, a freshly migrated SQLite file or PostgreSQL schema), the
sample echo bot (`echo_bot.py`, auth off), and one fake Bot Connector (`serve_connector.py`) that
receives both bots' replies. Many employees each alternate "valikko" and the menu's
"Valitse puhelin" button, so dialog state is read and written every turn.

    /work/venv/bin/python benchmarks/turn_latency.py [--quick] [--requests N]
        [--concurrency 1,10,50] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
from sqlalchemy import text

from bot.adapters.botframework.fake_openid import FakeOpenIdServer
from bot.db import migrate
from bot.db.engine import create_engine

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from serve_puhelinbotti import build_engine  # noqa: E402

from tests.support.activities import TeamsUser, message  # noqa: E402

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")
MENU_TEXT = "valikko"
CHOOSE_PHONE = {"verb": "area.choose_phone"}
OK_STATUSES = (200, 201)
WARMUP_CONCURRENCY = 10
READY_TIMEOUT_SECONDS = 60.0
LOG_ERROR_MARKERS = (" ERROR ", "[on_turn_error]")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Options:
    requests: int
    warmup: int
    users: int
    concurrency: tuple[int, ...]
    databases: tuple[str, ...]
    profile_dir: str | None = None


@dataclass
class Sample:
    """Latencies and failures of one batch of requests."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    failure_examples: dict[str, str] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        ordered = sorted(self.latencies)
        index = max(0, math.ceil(fraction * len(ordered)) - 1)
        return ordered[index] * 1000 if ordered else float("nan")


@dataclass
class LevelResult:
    bot: str
    database: str
    concurrency: int
    sample: Sample
    replies: int
    logged_errors: int
    cpu_seconds: float


class Server:
    """A subprocess serving HTTP on a local port, its output captured in a log file."""

    def __init__(self, name: str, script: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / script), "--port", str(self.port), *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def errors_since(self, offset: int) -> int:
        """Error lines the server logged after `offset` (failed turns, tracebacks)."""
        lines = self.log_since(offset).splitlines()
        return sum(any(marker in line for marker in LOG_ERROR_MARKERS) for line in lines)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        """Terminate gracefully, kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Conversations:
    """Employees whose turns alternate the menu text and the menu's "Valitse puhelin" button."""

    def __init__(self, users: int, service_url: str) -> None:
        self._users = [TeamsUser.new(f"Työntekijä {number:03d}") for number in range(users)]
        self.service_url = service_url
        self._turns: Counter[TeamsUser] = Counter()
        self._locks: dict[TeamsUser, asyncio.Lock] = {}
        self._next = 0

    def next_turns(self, count: int) -> list[tuple[TeamsUser, bytes]]:
        """The next `count` turns, round-robin over the employees, as request bodies."""
        return [self._next_turn() for _ in range(count)]

    def lock(self, user: TeamsUser) -> asyncio.Lock:
        """Held while one of the user's turns is in flight, so their turns stay in order."""
        return self._locks.setdefault(user, asyncio.Lock())

    def _next_turn(self) -> tuple[TeamsUser, bytes]:
        user = self._users[self._next % len(self._users)]
        self._next += 1
        if self._turns[user] % 2 == 0:
            activity = message(user, self.service_url, MENU_TEXT)
        else:
            activity = message(user, self.service_url, "", CHOOSE_PHONE)
        self._turns[user] += 1
        return user, json.dumps(activity).encode()


@dataclass
class Target:
    """Where a bot's turns go and which headers they carry."""

    name: str
    server: Server
    headers: dict[str, str]
    conversations: Conversations

    @property
    def messages_url(self) -> str:
        return f"{self.server.url}/api/messages"


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_ready(
    session: aiohttp.ClientSession, server: Server, path: str | None = None
) -> None:
    """Poll `path` for a 200, or the port for a connection, until the server answers."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log_since(0)[-3000:]}")
        with contextlib.suppress(OSError, aiohttp.ClientError):
            if path is None:
                _, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.close()
                await writer.wait_closed()
                return
            async with session.get(f"{server.url}{path}") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready:\n{server.log_since(0)[-3000:]}")


async def admin_execute(url: str, statement: str) -> None:
    """Run one statement in its own transaction and connection."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def migrate_fresh(url: str, schema: str | None) -> None:
    """Apply every migration, inside `schema` when one is given."""
    engine = build_engine(url, schema)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def drop_schema(schema: str) -> None:
    """Drop the schema on a loop of its own, so a cancelled run (Ctrl-C) still drops it."""
    statement = f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, admin_execute(POSTGRES_URL, statement)).result()


@contextlib.asynccontextmanager
async def fresh_database(kind: str, workdir: Path) -> AsyncIterator[tuple[str, str | None]]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'puhelinbotti.sqlite3'}"
        await migrate_fresh(url, None)
        yield url, None
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        await admin_execute(POSTGRES_URL, f'CREATE SCHEMA "{schema}"')
        await migrate_fresh(POSTGRES_URL, schema)
        yield POSTGRES_URL, schema
    finally:
        drop_schema(schema)


async def timed_post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    sample: Sample,
) -> None:
    """POST one body; its latency, and its failure if it was not answered 2xx, go to `sample`."""
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            detail = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        status, detail = 0, repr(error)
    sample.latencies.append(time.perf_counter() - started)
    if status not in OK_STATUSES:
        key = f"HTTP {status}" if status else "no response"
        sample.failures[key] += 1
        sample.failure_examples.setdefault(key, detail[:500])


async def send_turns(
    session: aiohttp.ClientSession,
    target: Target,
    turns: list[tuple[TeamsUser, bytes]],
    concurrency: int,
) -> Sample:
    """Post every turn, at most `concurrency` at a time, timing each request."""
    semaphore = asyncio.Semaphore(concurrency)
    sample = Sample()

    async def post(user: TeamsUser, body: bytes) -> None:
        async with target.conversations.lock(user), semaphore:
            await timed_post(session, target.messages_url, body, target.headers, sample)

    started = time.perf_counter()
    await asyncio.gather(*(post(user, body) for user, body in turns))
    sample.wall = time.perf_counter() - started
    return sample


async def check_auth_enforced(session: aiohttp.ClientSession, target: Target) -> None:
    """A turn without a token must be refused, or the comparison is not with auth on."""
    anonymous = message(TeamsUser.new(), target.conversations.service_url, MENU_TEXT)
    async with session.post(
        target.messages_url, json=anonymous, headers={"Content-Type": "application/json"}
    ) as response:
        if response.status != 401:
            raise RuntimeError(f"{target.name} answered {response.status} without a token")


async def take_replies(session: aiohttp.ClientSession, connector: Server) -> int:
    """Activities the fake connector received since the last call."""
    async with session.get(f"{connector.url}/bench/stats") as response:
        return int((await response.json())["activities"])


async def run_levels(
    session: aiohttp.ClientSession,
    target: Target,
    connector: Server,
    database: str,
    options: Options,
) -> list[LevelResult]:
    """Warm up, then measure each concurrency level on one running bot."""
    warmup = await send_turns(
        session, target, target.conversations.next_turns(options.warmup), WARMUP_CONCURRENCY
    )
    if warmup.errors:
        print(f"  warm-up errors for {target.name}: {dict(warmup.failures)}", file=sys.stderr)
    await take_replies(session, connector)
    results = []
    for concurrency in options.concurrency:
        offset = target.server.log_size()
        turns = target.conversations.next_turns(options.requests)
        cpu_before = target.server.cpu_seconds()
        sample = await send_turns(session, target, turns, concurrency)
        cpu = target.server.cpu_seconds() - cpu_before
        replies = await take_replies(session, connector)
        logged = target.server.errors_since(offset)
        results.append(
            LevelResult(target.name, database, concurrency, sample, replies, logged, cpu)
        )
        print(
            f"  {target.name:<13} {database:<10} c={concurrency:<3} {sample.rps:8.1f} req/s"
            f"  p50 {sample.percentile_ms(0.5):7.1f} ms  p99 {sample.percentile_ms(0.99):7.1f} ms"
            f"  errors {sample.errors}",
            file=sys.stderr,
        )
    return results


async def bench_echo(
    session: aiohttp.ClientSession,
    stack: contextlib.AsyncExitStack,
    connector: Server,
    workdir: Path,
    options: Options,
) -> list[LevelResult]:
    """The stock echo bot, authentication off (so no Authorization header)."""
    server = Server("echo", "echo_bot.py", [], workdir)
    stack.callback(server.stop)
    await wait_ready(session, server)
    target = Target(
        "echo",
        server,
        {"Content-Type": "application/json"},
        Conversations(options.users, connector.url),
    )
    try:
        return await run_levels(session, target, connector, "-", options)
    finally:
        server.stop()


async def bench_puhelinbotti(
    session: aiohttp.ClientSession,
    stack: contextlib.AsyncExitStack,
    connector: Server,
    openid: FakeOpenIdServer,
    database: str,
    workdir: Path,
    options: Options,
) -> list[LevelResult]:
    """Puhelinbotti with authentication on, on a fresh database of the given kind."""
    app_id = str(uuid.uuid4())
    token = openid.sign(app_id=app_id, service_url=connector.url)
    async with fresh_database(database, workdir) as (url, schema):
        args = [
            "--database-url",
            url,
            "--app-id",
            app_id,
            "--openid-metadata-url",
            openid.metadata_url,
        ]
        if schema:
            args += ["--schema", schema]
        if options.profile_dir:
            args += ["--profile", str(Path(options.profile_dir) / f"puhelinbotti-{database}.txt")]
        server = Server(f"puhelinbotti-{database}", "serve_puhelinbotti.py", args, workdir)
        stack.callback(server.stop)
        try:
            await wait_ready(session, server, "/readyz")
            target = Target(
                "puhelinbotti",
                server,
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                Conversations(options.users, connector.url),
            )
            await check_auth_enforced(session, target)
            return await run_levels(session, target, connector, database, options)
        finally:
            server.stop()


def ratio(numerator: float, denominator: float) -> str:
    """numerator / denominator to two decimals."""
    return f"{numerator / denominator:.2f}" if denominator else "n/a"


def format_row(r: LevelResult, echo: LevelResult | None) -> str:
    """One bot at one concurrency level; Puhelinbotti rows end with their ratios to echo."""
    s = r.sample
    turns = max(1, len(s.latencies))
    row = (
        f"{r.bot:<13} {r.database:<10} {r.concurrency:>4} {s.rps:8.1f} "
        f"{s.percentile_ms(0.5):8.1f} {s.percentile_ms(0.99):8.1f} "
        f"{r.cpu_seconds * 1000 / turns:7.2f} {s.errors:4d} {r.logged_errors:6d} "
        f"{r.replies / turns:8.2f}"
    )
    if r.bot == "echo" or echo is None:
        return row
    e = echo.sample
    return (
        f"{row} | {ratio(s.rps, e.rps):>11} "
        f"{ratio(s.percentile_ms(0.99), e.percentile_ms(0.99)):>9} "
        f"{ratio(r.cpu_seconds, echo.cpu_seconds):>9}"
    )


def format_table(results: list[LevelResult], options: Options) -> str:
    """Echo rows first, then Puhelinbotti per database with its ratios to echo."""
    echo = {r.concurrency: r for r in results if r.bot == "echo"}
    header = (
        f"{'bot':<13} {'database':<10} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms':>7} {'err':>4} {'logged':>6} {'out/turn':>8} | {'req/s ratio':>11} "
        f"{'p99 ratio':>9} {'cpu ratio':>9}"
    )
    lines = [
        f"Turns through /api/messages: {options.requests} measured requests per level, after "
        f"{options.warmup} warm-up turns; {options.users} employees.",
        "echo: stock botbuilder echo bot (02.echo-bot), auth off, no database.",
        "puhelinbotti: JWT validation on, dialog state and conversation reference in the database.",
        "cpu ms: the bot process's CPU time per turn; err: non-2xx or no response; logged: error",
        "lines in the bot's log; out/turn: activities the fake connector received per turn.",
        "Ratios are puhelinbotti / echo at the same concurrency.",
        "",
        header,
        "-" * len(header),
    ]
    lines += [format_row(r, None) for r in results if r.bot == "echo"]
    lines += [format_row(r, echo.get(r.concurrency)) for r in results if r.bot != "echo"]
    return "\n".join(lines)


def format_failures(results: list[LevelResult]) -> str:
    """Every kind of failed request, with one response body each."""
    lines = []
    for r in results:
        for key, count in r.sample.failures.items():
            example = r.sample.failure_examples.get(key, "")
            lines.append(f"{r.bot} {r.database} c={r.concurrency}: {count} x {key}: {example}")
    return "\n".join(lines)


async def measure_all(options: Options, workdir: Path) -> list[LevelResult]:
    """Start the servers and measure every bot; everything started is stopped on the way out."""
    results: list[LevelResult] = []
    async with contextlib.AsyncExitStack() as stack:
        openid = stack.enter_context(FakeOpenIdServer())
        session = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        )
        connector = Server("connector", "serve_connector.py", [], workdir)
        stack.callback(connector.stop)
        await wait_ready(session, connector, "/bench/stats")
        results += await bench_echo(session, stack, connector, workdir, options)
        for database in options.databases:
            results += await bench_puhelinbotti(
                session, stack, connector, openid, database, workdir, options
            )
    return results


def report(results: list[LevelResult], options: Options, workdir: Path) -> None:
    """Print the table, every failed request kind, and the first error each server logged."""
    print()
    print(format_table(results, options))
    failures = format_failures(results)
    if failures:
        print("\nFailed requests:\n" + failures)
    for path in sorted(workdir.glob("*.log")):
        if has_errors(path):
            print(f"\nFirst errors logged by {path.stem}:\n{first_error(path)}")


def has_errors(path: Path) -> bool:
    """Whether a server log has any error line."""
    return any(marker in path.read_text(errors="replace") for marker in LOG_ERROR_MARKERS)


def first_error(path: Path, context_lines: int = 40) -> str:
    """The first error line in a log and what follows it (usually its traceback)."""
    lines = path.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        if any(marker in line for marker in LOG_ERROR_MARKERS):
            return "\n".join(lines[index : index + context_lines])
    return ""


def int_list(value: str) -> tuple[int, ...]:
    """ "1,10,50" -> (1, 10, 50)."""
    return tuple(int(part) for part in value.split(",") if part.strip())


def name_list(choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A parser of comma-separated names, each one of `choices`."""

    def parse(value: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in value.split(",") if part.strip())
        unknown = set(names) - set(choices)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(sorted(unknown))}")
        return names

    return parse


def parse_options(argv: list[str] | None = None) -> Options:
    """Command-line options; --quick shrinks the run to a CI smoke test."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run for CI smoke")
    parser.add_argument("--requests", type=int, help="measured requests per level")
    parser.add_argument("--concurrency", type=int_list, default=(1, 10, 50))
    parser.add_argument("--databases", type=name_list(DATABASES), default=DATABASES)
    parser.add_argument("--users", type=int, help="distinct employees")
    parser.add_argument("--profile-dir", help="profile each Puhelinbotti server into this folder")
    args = parser.parse_args(argv)
    requests = args.requests or (100 if args.quick else 1000)
    users = args.users or (50 if args.quick else 200)
    return Options(
        requests=requests,
        warmup=users,
        users=users,
        concurrency=args.concurrency,
        databases=args.databases,
        profile_dir=args.profile_dir,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, report; exit status 1 if any request failed or a server logged an error."""
    options = parse_options(argv)
    with tempfile.TemporaryDirectory(prefix="turn-latency-") as directory:
        workdir = Path(directory)
        try:
            results = asyncio.run(measure_all(options, workdir))
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
        report(results, options, workdir)
    return 1 if any(r.sample.errors or r.logged_errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
