"""The HTTP side of telemetry: a correlation id, a span and a duration for every request, and
the Prometheus page."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.network import is_loopback_host
from bot.telemetry.correlation import begin
from bot.telemetry.providers import Telemetry

log = logging.getLogger(__name__)
CORRELATION_HEADER = "X-Correlation-Id"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
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
    never the token itself); a request no route matched counts as `unmatched`. Only a 5xx
    marks the span failed, and never with an exception's message (it may quote a person)."""
    telemetry = request.app.get(TELEMETRY)
    if telemetry is None:
        return await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "_OTHER"
    started = time.perf_counter()
    status = 500
    with telemetry.tracer.start_as_current_span(
        f"{method} {route}",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route},
        record_exception=False,
        set_status_on_exception=False,
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
            telemetry.instruments.request(method, route, status, time.perf_counter() - started)


async def prometheus_metrics(request: web.Request) -> web.Response:
    """`/metrics` on the bot's own port, which a proxy may expose: only with the bearer token
    (PROMETHEUS_METRICS_TOKEN); without one set, there is no such page here (404)."""
    telemetry = request.app.get(TELEMETRY)
    if telemetry is None or telemetry.prometheus is None or not telemetry.metrics_token:
        raise web.HTTPNotFound()
    if not shows_token(request, telemetry.metrics_token):
        raise web.HTTPForbidden(text="metrics need the bearer token\n")
    return _metrics_page(telemetry)


async def local_metrics(request: web.Request) -> web.Response:
    """`/metrics` on the metrics listener (METRICS_HOST:METRICS_PORT): for a scraper on this
    machine, or elsewhere with the bearer token."""
    telemetry = request.app[TELEMETRY]
    local = request.remote is not None and is_loopback_host(request.remote)
    if not local and not (
        telemetry.metrics_token and shows_token(request, telemetry.metrics_token)
    ):
        raise web.HTTPForbidden(
            text="metrics are for this machine, or for a scraper with the bearer token\n"
        )
    return _metrics_page(telemetry)


def _metrics_page(telemetry: Telemetry) -> web.Response:
    assert telemetry.prometheus is not None
    body = generate_latest(telemetry.prometheus)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def shows_token(request: web.Request, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


async def open_metrics_listener(telemetry: Telemetry, host: str, port: int) -> web.AppRunner | None:
    """The metrics listener, when Prometheus is on and a port is set; None otherwise, or when
    the port is taken (logged: the bot goes on serving and sending without it)."""
    if telemetry.prometheus is None or not port:
        return None
    app = web.Application()
    app[TELEMETRY] = telemetry
    app.router.add_get("/metrics", local_metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        log.error(
            "metrics listener not started on %s:%d (%s): set METRICS_PORT to a free port, "
            "or 0 for none",
            host,
            port,
            error.strerror or error,
        )
        return None
    log.info("metrics for Prometheus on http://%s:%d/metrics", host, port)
    return runner
