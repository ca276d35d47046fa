"""A span per SQL statement of a traced turn or job: the statement's text with its placeholders,
never the values.

Written here rather than taken from opentelemetry-instrumentation-sqlalchemy: that one opens a
span for every connection checkout and statement whether or not the turn is traced, which cost
the untraced majority of turns ~0.5 ms each (benchmarks/telemetry_overhead.py, profiled); here a
statement outside a traced turn costs one context lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

SPAN_KEY = "_telemetry_span"
STATEMENT_LIMIT = 2000


def trace_statements(engine: AsyncEngine, tracer: trace.Tracer) -> Callable[[], None]:
    """Listens to `engine`'s statements; returns what stops listening."""
    sync: Engine = engine.sync_engine
    system = sync.dialect.name

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if context is None or not trace.get_current_span().is_recording():
            return
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{operation} {system}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": system,
                "db.operation.name": operation,
                "db.statement": statement[:STATEMENT_LIMIT],
            },
        )
        setattr(context, SPAN_KEY, span)

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        span = getattr(context, SPAN_KEY, None)
        if span is not None:
            span.end()
            setattr(context, SPAN_KEY, None)

    def failed(error: Any) -> None:
        span = getattr(error.execution_context, SPAN_KEY, None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()
            setattr(error.execution_context, SPAN_KEY, None)

    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    event.listen(sync, "handle_error", failed)

    def stop() -> None:
        event.remove(sync, "before_cursor_execute", before)
        event.remove(sync, "after_cursor_execute", after)
        event.remove(sync, "handle_error", failed)

    return stop
