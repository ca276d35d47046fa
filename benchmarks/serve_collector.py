"""Runs the fake OTLP collector on a local port for the telemetry overhead benchmark; it only
counts what arrives (`GET /stats`), as a collector would accept it."""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.telemetry.fake_collector import FakeCollector


def main() -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    collector = FakeCollector(count_only=True)
    web.run_app(collector.app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
