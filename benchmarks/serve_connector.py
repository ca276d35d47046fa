"""Runs a FakeBotConnector on a local port, for the turn latency benchmark.

`GET /bench/stats` answers how many activities arrived since the last call and forgets them.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.adapters.botframework.fake_connector import FakeBotConnector


def build_app(connector: FakeBotConnector) -> web.Application:
    """The connector's routes plus the stats route."""
    app = connector.app()

    async def stats(request: web.Request) -> web.Response:
        received = len(connector.activities)
        connector.clear()
        return web.json_response({"activities": received})

    app.router.add_get("/bench/stats", stats)
    return app


def main() -> None:
    """Serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build_app(FakeBotConnector()), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
