"""Spans for calls to outside systems, opened only inside a traced turn or job, so an untraced
one (most of them, with sampling) pays one context lookup."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes
from yarl import URL

from bot.telemetry.urls import without_ids


@contextmanager
def operation(tracer: trace.Tracer, name: str) -> Iterator[Span]:
    """A span of its own for a background run or a notification's send (sampled like a turn);
    an exception marks it failed by type only."""
    with tracer.start_as_current_span(
        name, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


@contextmanager
def client_call(
    tracer: trace.Tracer, name: str, attributes: Callable[[], Attributes]
) -> Iterator[Span | None]:
    """A client span named `name`, or None when nothing above it is traced. An exception marks
    it failed by type only (its message may carry a person's text)."""
    if not trace.get_current_span().is_recording():
        yield None
        return
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes=attributes(),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


def http_call_attributes(method: str, url: URL) -> Callable[[], Attributes]:
    """The request's method, and its URL with the ids cut out."""
    return lambda: {
        "http.request.method": method,
        "url.full": without_ids(url),
        "server.address": url.host or "",
    }


def settle_http_call(span: Span | None, status: int | None) -> None:
    """The answer's status on the span; none (a timeout, no connection) or 5xx is a failure."""
    if span is None:
        return
    if status is None:
        span.set_status(Status(StatusCode.ERROR, "no answer"))
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
