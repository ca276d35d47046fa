"""What telemetry costs a turn: Puhelinbotti's throughput with it off and on, in the same run.

Modes (the same server, settings apart):
- off: no exporter, the API's no-op instruments;
- metrics: PROMETHEUS_METRICS=true, `/metrics` scraped every second (Prometheus usually
  scrapes every 15-60 s, so this is the heavier case);
- traces: metrics as above plus OTLP to a local collector with the defaults (metrics pushed
  every 30 s, TRACE_SAMPLE_RATIO=0.1 of the turns traced): for those, a span for the request,
  the turn, every SQL statement and every Bot Connector call;
- traces-all: the same with every turn traced (TRACE_SAMPLE_RATIO=1).

Load: the turn benchmark's returning employees (authentication on, "valikko" and the menu's
button in turn), `--concurrency` at a time. Each round runs every mode on a fresh database,
the modes' order rotating between rounds so that drift hits each alike; the ratio to off is
taken within a round, and the figures printed are medians over the rounds.

    .venv/bin/python benchmarks/telemetry_overhead.py [--quick] [--rounds 3] [--requests 1500]
        [--concurrency 10] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from turn_latency import (
    DATABASES,
    WARMUP_CONCURRENCY,
    Conversations,
    Server,
    Target,
    check_auth_enforced,
    free_port,
    fresh_database,
    name_list,
    send_turns,
    take_replies,
    wait_ready,
)

from bot.adapters.botframework.fake_openid import FakeOpenIdServer

MODES = ("off", "metrics", "traces", "traces-all")
SCRAPE_INTERVAL = 1.0


@dataclass(frozen=True)
class Options:
    rounds: int
    requests: int
    users: int
    concurrency: int
    databases: tuple[str, ...]
    profile_dir: str | None = None


@dataclass(frozen=True)
class Run:
    database: str
    mode: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    scrapes: int
    spans: int
    cpu_ms: float


def settings_for(mode: str, collector: Server, metrics_port: int) -> list[str]:
    if mode == "off":
        return []
    settings = ["prometheus_metrics=true", f"metrics_port={metrics_port}"]
    if mode.startswith("traces"):
        settings += [f"otlp_endpoint={collector.url}"]
    if mode == "traces-all":
        settings += ["trace_sample_ratio=1"]
    return [part for setting in settings for part in ("--setting", setting)]


async def scrape(session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> int:
    """GET /metrics every second until `stop`, as Prometheus would; returns how many."""
    done = 0
    while not stop.is_set():
        async with session.get(url) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"/metrics answered {response.status}")
        done += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCRAPE_INTERVAL)
    return done


async def collected_spans(session: aiohttp.ClientSession, collector: Server) -> int:
    async with session.get(f"{collector.url}/stats") as response:
        return int((await response.json())["spans"])


async def run_mode(
    session: aiohttp.ClientSession,
    servers: tuple[Server, Server, FakeOpenIdServer],
    database: str,
    mode: str,
    round_number: int,
    workdir: Path,
    options: Options,
) -> Run:
    """One server in one mode on a fresh database: warm up, then measure."""
    connector, collector, openid = servers
    app_id = str(uuid.uuid4())
    token = openid.sign(app_id=app_id, service_url=connector.url)
    async with fresh_database(database, workdir) as (url, schema):
        args = ["--database-url", url, "--app-id", app_id]
        metrics_port = free_port()
        args += ["--openid-metadata-url", openid.metadata_url]
        args += settings_for(mode, collector, metrics_port)
        if schema:
            args += ["--schema", schema]
        name = f"puhelinbotti-{database}-{mode}-{round_number}"
        if options.profile_dir:
            args += ["--profile", str(Path(options.profile_dir) / f"{name}.txt")]
        server = Server(name, "serve_puhelinbotti.py", args, workdir)
        try:
            await wait_ready(session, server, "/readyz")
            target = Target(
                "puhelinbotti",
                server,
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                Conversations(options.users, connector.url),
            )
            await check_auth_enforced(session, target)
            await send_turns(
                session, target, target.conversations.next_turns(options.users), WARMUP_CONCURRENCY
            )
            await take_replies(session, connector)
            spans_before = await collected_spans(session, collector)
            stop = asyncio.Event()
            scraper = (
                asyncio.create_task(
                    scrape(session, f"http://127.0.0.1:{metrics_port}/metrics", stop)
                )
                if mode != "off"
                else None
            )
            turns = target.conversations.next_turns(options.requests)
            cpu_before = server.cpu_seconds()
            sample = await send_turns(session, target, turns, options.concurrency)
            cpu = server.cpu_seconds() - cpu_before
            stop.set()
            scrapes = await scraper if scraper is not None else 0
            await take_replies(session, connector)
        finally:
            server.stop()
        spans = await collected_spans(session, collector) - spans_before
    run = Run(
        database,
        mode,
        round_number,
        sample.rps,
        sample.percentile_ms(0.5),
        sample.percentile_ms(0.99),
        sample.errors + server.errors_since(0),
        scrapes,
        spans,
        cpu * 1000 / options.requests,
    )
    print(
        f"  round {round_number} {database:<10} {mode:<10} {run.rps:7.1f} req/s "
        f"p50 {run.p50_ms:6.1f} ms p99 {run.p99_ms:6.1f} ms cpu {run.cpu_ms:5.2f} ms/turn "
        f"errors {run.errors} "
        f"scrapes {scrapes} spans {spans}",
        file=sys.stderr,
    )
    return run


async def measure(options: Options, workdir: Path) -> list[Run]:
    runs: list[Run] = []
    async with contextlib.AsyncExitStack() as stack:
        openid = stack.enter_context(FakeOpenIdServer())
        session = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        )
        connector = Server("connector", "serve_connector.py", [], workdir)
        stack.callback(connector.stop)
        collector = Server("collector", "serve_collector.py", [], workdir)
        stack.callback(collector.stop)
        await wait_ready(session, connector, "/bench/stats")
        await wait_ready(session, collector, "/stats")
        for round_number in range(1, options.rounds + 1):
            shift = (round_number - 1) % len(MODES)
            order = MODES[shift:] + MODES[:shift]
            for database in options.databases:
                for mode in order:
                    runs.append(
                        await run_mode(
                            session,
                            (connector, collector, openid),
                            database,
                            mode,
                            round_number,
                            workdir,
                            options,
                        )
                    )
    return runs


def report(runs: list[Run], options: Options) -> str:
    lines = [
        f"Telemetry overhead: {options.requests} measured turns per run at c={options.concurrency},"
        f" {options.users} returning employees, auth on; {options.rounds} rounds, each mode on a "
        "fresh database per round; medians over rounds; ratio = req/s of the mode / off within a "
        "round (min: the worst round); cpu ms: the server's CPU time per turn.",
        "",
        f"{'database':<10} {'mode':<10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'ratio':>6} {'min':>6} {'cpu ms':>6} {'spans/turn':>10} {'errors':>6}",
    ]
    for database in options.databases:
        off = {run.round: run for run in runs if run.database == database and run.mode == "off"}
        for mode in MODES:
            mine = [run for run in runs if run.database == database and run.mode == mode]
            ratios = [run.rps / off[run.round].rps for run in mine if off[run.round].rps]
            lines.append(
                f"{database:<10} {mode:<10} {statistics.median(r.rps for r in mine):8.1f} "
                f"{statistics.median(r.p50_ms for r in mine):7.1f} "
                f"{statistics.median(r.p99_ms for r in mine):7.1f} "
                f"{statistics.median(ratios):6.2f} {min(ratios):6.2f} "
                f"{statistics.median(r.cpu_ms for r in mine):6.2f} "
                f"{statistics.median(r.spans for r in mine) / options.requests:10.1f} "
                f"{sum(r.errors for r in mine):6d}"
            )
    return "\n".join(lines)


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--databases", type=name_list(DATABASES), default=DATABASES)
    parser.add_argument("--profile-dir", help="profile each server (pyinstrument) into this folder")
    args = parser.parse_args(argv)
    return Options(
        rounds=args.rounds or (1 if args.quick else 3),
        requests=args.requests or (200 if args.quick else 1500),
        users=args.users,
        concurrency=args.concurrency,
        databases=args.databases,
        profile_dir=args.profile_dir,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    with tempfile.TemporaryDirectory(prefix="telemetry-overhead-") as directory:
        runs = asyncio.run(measure(options, Path(directory)))
    print()
    print(report(runs, options))
    return 1 if any(run.errors for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
