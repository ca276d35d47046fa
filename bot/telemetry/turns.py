"""A turn as an operator sees it: a span around the dialog's work, counted by kind and outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import Status, StatusCode

from bot.telemetry.instruments import turn_kind
from bot.telemetry.providers import Telemetry


class TurnObserver:
    """Wraps each turn; an exception is recorded by its type only (its message may quote what
    the person typed) and passed on unchanged."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._tracer = telemetry.tracer
        self._instruments = telemetry.instruments

    @contextmanager
    def turn(self, activity_type: str | None) -> Iterator[None]:
        kind = turn_kind(activity_type)
        started = time.perf_counter()
        outcome = "error"
        with self._tracer.start_as_current_span(
            f"turn {kind}",
            attributes={"phonebot.turn.kind": kind},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield
                outcome = "ok"
            except BaseException as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                raise
            finally:
                self._instruments.turn(kind, outcome, time.perf_counter() - started)
