"""Serving until SIGTERM, then stopping so that nothing is cut.

The order an operator expects: `/readyz` turns 503 at once (a load balancer stops routing
here) while turns are still taken for the grace, and the background jobs stop at the same
moment (sends under way finish; every other claimed notification goes back to the outbox, so
another instance takes it at once instead of waiting for its lease to run out); after the grace
new turns are refused with 503 and Retry-After (the Bot Connector sends them again, to another
instance), the listener closes, and turns in flight finish (bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
GATED_PATHS = frozenset({"/api/messages"})


@dataclass
class Shutdown:
    """Where a serving process is in its stop; `/readyz` and the turn gate read it."""

    stopping: bool = False
    refusing: bool = False
    # Stopped as soon as the stop begins: no new claims, the outbox's rows given back early.
    stop_background: Callable[[], Awaitable[None]] | None = None


SHUTDOWN = web.AppKey("shutdown", Shutdown)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def refuse_turns_when_stopping(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After the grace a new turn is refused whole, never started and cut."""
    if request.app[SHUTDOWN].refusing and request.path in GATED_PATHS:
        return web.json_response(
            {"error": "the bot is restarting; send again"},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"},
        )
    return await handler(request)


def add_shutdown(app: web.Application) -> None:
    """Gives the app its stop state and the gate that reads it."""
    app[SHUTDOWN] = Shutdown()
    app.middlewares.append(refuse_turns_when_stopping)


async def serve(
    app: web.Application,
    *,
    host: str,
    port: int,
    grace: float,
    turn_timeout: float,
    access_log_class: type[AbstractAccessLogger],
) -> None:
    """Serves until SIGTERM or SIGINT, then stops in the order above; a second signal skips
    what is left of the grace."""
    runner = web.AppRunner(
        app, handle_signals=False, access_log_class=access_log_class, shutdown_timeout=turn_timeout
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("serving on http://%s:%d/", host, port)
        asked, hurried = asyncio.Event(), asyncio.Event()

        def on_signal() -> None:
            (hurried if asked.is_set() else asked).set()

        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, on_signal)
        await asked.wait()
        shutdown = app[SHUTDOWN]
        shutdown.stopping = True
        log.info("stopping: /readyz answers 503; turns are still taken for %.0f s", grace)
        background = _stop_background(shutdown)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurried.wait(), timeout=grace)
        shutdown.refusing = True
        log.info("stopping: new turns refused; up to %.0f s for those in flight", turn_timeout)
        await background
    finally:
        await runner.cleanup()
    log.info("stopped")


def _stop_background(shutdown: Shutdown) -> asyncio.Future[None]:
    """The background jobs stop beside the grace, not after it."""
    if shutdown.stop_background is None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done
    return asyncio.ensure_future(shutdown.stop_background())
