"""The HTTP side of telemetry: every request gets a correlation id of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.telemetry.correlation import begin

CORRELATION_HEADER = "X-Correlation-Id"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def correlate_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A fresh id for the request's lines (the access log's too), returned in a header so an
    operator can find them; an id the caller sends is not trusted."""
    correlation = begin()
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[CORRELATION_HEADER] = correlation
        raise
    response.headers[CORRELATION_HEADER] = correlation
    return response
