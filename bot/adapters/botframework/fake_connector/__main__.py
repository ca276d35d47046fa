"""Run the fake Bot Connector standalone, for the benchmark and the demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence

from bot.adapters.botframework.fake_connector import (
    FakeBotConnector,
    Faults,
    Limits,
    start_site,
)


def build(args: argparse.Namespace) -> FakeBotConnector:
    """A connector configured from the command line."""
    return FakeBotConnector(
        limits=None if args.no_limits else Limits(tenant_per_second=args.rps),
        faults=Faults(
            rate_429=args.fail_429,
            retry_after=args.retry_after,
            rate_5xx=args.fail_5xx,
            server_errors=tuple(int(code) for code in args.server_errors.split(",")),
            rate_timeout=args.timeouts,
            hang_seconds=args.hang_seconds,
            timeout_delivers=args.timeout_delivers,
            latency=args.latency_ms / 1000,
            jitter=args.jitter_ms / 1000,
            seed=args.seed,
        ),
        installed=set() if args.require_install else None,
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.adapters.botframework.fake_connector",
        description="Serve a fake Teams Bot Connector; print a JSON summary on exit.",
    )
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--rps", type=int, default=50, help="tenant-wide requests per second")
    parser.add_argument("--no-limits", action="store_true", help="do not enforce Teams limits")
    parser.add_argument("--fail-429", type=float, default=0.0, help="rate of injected 429")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After of injected 429")
    parser.add_argument("--fail-5xx", type=float, default=0.0, help="rate of 500/502/503/504")
    parser.add_argument(
        "--server-errors", default="500,502,503,504", help="which 5xx --fail-5xx answers with"
    )
    parser.add_argument("--timeouts", type=float, default=0.0, help="rate of requests left hanging")
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument(
        "--timeout-delivers", action="store_true", help="a timed-out send still reaches the user"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--require-install",
        action="store_true",
        help="create_conversation answers 403 until POST /_fake/installed/{aad id}",
    )
    return parser.parse_args(argv)


async def serve(connector: FakeBotConnector, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then print the summary as JSON on stdout."""
    runner, bound = await start_site(connector, port)
    print(f"fake Bot Connector on http://127.0.0.1:{bound}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print(json.dumps(connector.summary()), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(serve(build(args), args.port))


if __name__ == "__main__":
    main()
