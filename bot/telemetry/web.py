"""The HTTP side of telemetry: a correlation id, a span and a duration for every request, and
the Prometheus page."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.network import is_loopback_host
from bot.telemetry.correlation import begin
from bot.telemetry.providers import Telemetry

CORRELATION_HEADER = "X-Correlation-Id"
# A proxy on this machine adds one of these: the request is then not this machine's own.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
TELEMETRY = web.AppKey("telemetry", Telemetry)
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


@web.middleware
async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A server span and a duration per request, named by route (`/privacy/copy/{token}`,
    never the token itself); a request no route matched counts as `unmatched`."""
    telemetry = request.app.get(TELEMETRY)
    if telemetry is None:
        return await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    with telemetry.tracer.start_as_current_span(
        f"{request.method} {route}",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": route},
        record_exception=False,
    ) as span:
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            telemetry.instruments.request(
                request.method, route, status, time.perf_counter() - started
            )


async def prometheus_metrics(request: web.Request) -> web.Response:
    """Prometheus text, for a scraper on this machine or one that shows the bearer token set in
    PROMETHEUS_METRICS_TOKEN; 404 while PROMETHEUS_METRICS is off."""
    telemetry = request.app.get(TELEMETRY)
    if telemetry is None or telemetry.prometheus is None:
        raise web.HTTPNotFound()
    if not may_scrape(request, telemetry):
        raise web.HTTPForbidden(
            text="metrics are for this machine, or for a scraper with the bearer token\n"
        )
    body = generate_latest(telemetry.prometheus)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve_metrics_alone(telemetry: Telemetry, host: str, port: int) -> web.AppRunner | None:
    """`/metrics` on a port of its own, for a process that serves no turns (`phonebot
    dispatch`); None when Prometheus is off. The caller cleans the runner up."""
    if telemetry.prometheus is None:
        return None
    app = web.Application()
    app[TELEMETRY] = telemetry
    app.router.add_get("/metrics", prometheus_metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def may_scrape(request: web.Request, telemetry: Telemetry) -> bool:
    """The exact token (compared in constant time), or a peer on this machine that is not a
    proxy passing on someone else's request."""
    token = telemetry.metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    forwarded = any(name in request.headers for name in FORWARDING_HEADERS)
    return not forwarded and request.remote is not None and is_loopback_host(request.remote)
