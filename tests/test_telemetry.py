"""Metrics and traces of a running bot, read in memory as an exporter would get them: turns by
kind and outcome, their latency, HTTP requests by route, questions by band, 429s, background
runs, the database gauges; a turn's spans from HTTP in to SQL and the Bot Connector; nothing in
them that names a person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from yarl import URL

from bot.adapters.botframework.fake_connector import ScriptedFailure
from bot.adapters.graph.client import GraphDirectory
from bot.adapters.graph.fake_graph import FakeGraph
from bot.db.engine import create_session_factory
from bot.directory.models import DirectorySyncState
from bot.settings import Settings
from bot.telemetry.instruments import METER_NAME, Instruments
from bot.telemetry.providers import TRACER_NAME, Telemetry, start_telemetry
from bot.telemetry.readings import read_gauges
from bot.telemetry.sql import trace_statements
from bot.telemetry.urls import without_ids
from tests.support.activities import message
from tests.support.bot import MAIJA, OUTGOING_TOKEN, demo_bot, running_bot
from tests.support.tickets import add_ticket

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
QUESTION = "Asun osoitteessa Satakunnankatu 9 B 12, paljonko puhelin maksaa minulle?"


class Recorded:
    """A Telemetry whose metrics and spans stay in memory for the test to read."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.spans = InMemorySpanExporter()
        meter_provider = MeterProvider(metric_readers=[self.reader])
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.telemetry = Telemetry(
            instruments=Instruments(meter_provider.get_meter(METER_NAME)),
            tracer=tracer_provider.get_tracer(TRACER_NAME),
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
        )

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, point) of every data point of the metric `name`."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return found

    def total(self, name: str, **attributes: Any) -> float:
        """A counter's sum (or a histogram's count) over points with these attributes."""
        return sum(
            getattr(point, "value", None) or getattr(point, "count", 0)
            for labels, point in self.points(name)
            if attributes.items() <= labels.items()
        )

    def finished(self) -> tuple[ReadableSpan, ...]:
        return self.spans.get_finished_spans()


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    yield Recorded()


def everything_in(spans: tuple[ReadableSpan, ...], recorded: Recorded) -> str:
    """Every span name, attribute and status and every metric label, as one text to grep."""
    parts = [
        json.dumps(
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "status": span.status.description,
                "events": [dict(event.attributes or {}) for event in span.events],
            },
            ensure_ascii=False,
            default=str,
        )
        for span in spans
    ]
    data = recorded.reader.get_metrics_data()
    parts.append(data.to_json() if data else "")
    return "\n".join(parts)


async def test_a_transcript_is_counted_and_traced_without_naming_anyone(engine, recorded):
    async with demo_bot(engine, NOW, telemetry=recorded.telemetry) as bot:
        await bot.say(MAIJA, "valikko")
        await bot.say(MAIJA, QUESTION)
        await bot.say(MAIJA, "omat vähennykset")
        conversation = bot.connector.deliveries[-1].conversation_id

    ok_messages = recorded.total("phonebot.turns", kind="message", outcome="ok")
    assert ok_messages == 4, "hello, the menu, a question, the deductions"
    assert recorded.total("phonebot.turn.duration", kind="message") == 4
    posts = [
        (labels["http.response.status_code"], point.count)
        for labels, point in recorded.points("http.server.request.duration")
        if labels["http.route"] == "/api/messages"
    ]
    assert sum(count for _, count in posts) == 4 and all(200 <= s < 300 for s, _ in posts)
    assert sum(recorded.total("phonebot.faq.answers", band=band) for band in BANDS) == 1

    spans = recorded.finished()
    servers = [span for span in spans if span.kind is SpanKind.SERVER]
    assert [span.name for span in servers] == ["POST /api/messages"] * 4
    last = servers[-1]
    inside = [span for span in spans if span.context.trace_id == last.context.trace_id]
    (turn,) = [span for span in inside if span.name == "turn message"]
    assert turn.parent is not None and turn.parent.span_id == last.context.span_id
    queries = [span for span in inside if span.attributes and "db.statement" in span.attributes]
    assert queries, "the turn's SQL statements are spans of the same trace"
    calls = [
        span
        for span in inside
        if span.kind is SpanKind.CLIENT and _attribute(span, "http.request.method", "http.method")
    ]
    assert calls, "the reply's Bot Connector call is a span of the same trace"
    # The instrumentation writes the older `http.url` unless OTEL_SEMCONV_STABILITY_OPT_IN says.
    urls = [str(_attribute(span, "url.full", "http.url")) for span in calls]
    assert all("/v3/conversations/{id}/activities" in url for url in urls), urls

    text = everything_in(spans, recorded)
    secrets = [MAIJA.name, MAIJA.aad_object_id, QUESTION, "Satakunnankatu", conversation]
    secrets += [OUTGOING_TOKEN, "250,00", "10,41"]
    assert [secret for secret in secrets if secret in text] == []


def _attribute(span: ReadableSpan, *names: str) -> object:
    attributes = dict(span.attributes or {})
    return next((attributes[name] for name in names if name in attributes), "")


BANDS = ("answer", "suggest", "unknown", "refused", "chosen")


async def test_a_failed_turn_counts_as_an_error_and_its_span_names_only_the_exception(
    sqlite_engine, recorded
):
    async with demo_bot(sqlite_engine, NOW, telemetry=recorded.telemetry) as bot:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"failed for {MAIJA.name}")

        bot.components.handler._switch_language = broken  # type: ignore[method-assign]
        await bot.post(message(MAIJA, bot.service_url, "in English"))

    assert recorded.total("phonebot.turns", kind="message", outcome="error") == 1
    (turn,) = [
        span
        for span in recorded.finished()
        if span.name == "turn message" and span.status.status_code is StatusCode.ERROR
    ]
    assert turn.status.description == "RuntimeError"
    assert MAIJA.name not in everything_in(recorded.finished(), recorded)


async def test_a_429_from_the_bot_connector_is_counted_with_its_retry_after(
    sqlite_engine, recorded
):
    async with demo_bot(sqlite_engine, NOW, telemetry=recorded.telemetry) as bot:
        bot.connector.fail_next(ScriptedFailure(429, retry_after="1"))
        await bot.say(MAIJA, "valikko")

    assert recorded.total("phonebot.connector.throttled") == 1
    ((_, waits),) = recorded.points("phonebot.connector.retry_after")
    assert waits.count == 1 and waits.sum == pytest.approx(1.0, abs=0.5)


async def test_requests_are_named_by_route_never_by_their_path(sqlite_engine, recorded):
    async with running_bot(sqlite_engine, telemetry=recorded.telemetry) as bot:
        assert (await bot.client.get("/privacy/copy/secret-token-123")).status == 404
        assert (await bot.client.get("/no/such/page")).status == 404
        assert (await bot.client.get("/healthz")).status == 200

    routes = {labels["http.route"] for labels, _ in recorded.points("http.server.request.duration")}
    assert routes == {"/privacy/copy/{token}", "unmatched", "/healthz"}
    assert "secret-token-123" not in everything_in(recorded.finished(), recorded)


async def test_the_database_gauges_read_the_outbox_the_relay_and_the_sync(engine):
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        session.add(
            DirectorySyncState(source="graph", last_delta_sync_at=datetime(2027, 3, 15, 9, 0))
        )
    await add_ticket(engine, NOW, state="open")
    async with sessions() as session:
        readings = await read_gauges(session, lambda: NOW)

    assert readings.outbox_by_state == {
        "pending": 0,
        "sending": 0,
        "delivered": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert readings.relay_backlog == 1
    assert readings.directory_sync_age_seconds == {"graph": 3600.0}


async def test_the_gauges_and_background_runs_reach_the_exporter(sqlite_engine, recorded):
    async with running_bot(sqlite_engine, telemetry=recorded.telemetry) as bot:
        await bot.components.gauges.sample()

    depth = {
        labels["state"]: point.value for labels, point in recorded.points("phonebot.outbox.depth")
    }
    assert depth["pending"] == 0 and set(depth) >= {"pending", "delivered", "failed"}
    ((_, backlog),) = recorded.points("phonebot.helpdesk.relay_backlog")
    assert backlog.value == 0


def test_without_an_exporter_nothing_is_recorded_or_traced():
    telemetry = start_telemetry(Settings(app_id=""))
    assert not telemetry.recording and not telemetry.tracing
    assert telemetry.prometheus is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://smba.trafficmanager.net/emea/v3/conversations/a:1Xy-Q_9/activities/17?x=1",
            "https://smba.trafficmanager.net/emea/v3/conversations/{id}/activities/{id}",
        ),
        ("http://127.0.0.1:4000/v3/conversations", "http://127.0.0.1:4000/v3/conversations"),
        (
            "https://login.botframework.com/v1/.well-known/openidconfiguration",
            "https://login.botframework.com/v1/.well-known/openidconfiguration",
        ),
        ("https://graph/v1.0/users/maija.meikalainen@pori.fi", "https://graph/v1.0/users/{id}"),
        ("https://user:pw@host/v3/", "https://host/v3/"),
    ],
)
def test_urls_in_traces_show_the_route_not_the_ids(url, shown):
    assert without_ids(URL(url)) == shown


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PROMETHEUS_METRICS_TOKEN", "too-short"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.pori.fi:4318"),
    ],
)
def test_telemetry_settings_that_would_not_work_refuse_to_load(setting, value, monkeypatch):
    monkeypatch.setenv(setting, value)
    with pytest.raises(ValidationError, match=setting):
        Settings(app_id="")


async def test_a_failing_statement_is_a_failed_span_and_an_untraced_one_makes_none(
    sqlite_engine, recorded
):
    tracer = recorded.telemetry.tracer
    stop = trace_statements(sqlite_engine, tracer)
    try:
        with tracer.start_as_current_span("turn message"):
            async with sqlite_engine.connect() as connection:
                with pytest.raises(OperationalError):
                    await connection.execute(
                        text("SELECT reply FROM no_such_table WHERE name = :name"),
                        {"name": MAIJA.name},
                    )
        async with sqlite_engine.connect() as connection:
            await connection.execute(text("SELECT 42"))
    finally:
        stop()

    statements = {
        str(_attribute(span, "db.statement")): span
        for span in recorded.finished()
        if _attribute(span, "db.statement")
    }
    failed = statements["SELECT reply FROM no_such_table WHERE name = ?"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "OperationalError"
    assert "SELECT 42" not in statements, "outside a traced turn no span is made"
    assert MAIJA.name not in everything_in(recorded.finished(), recorded)


async def test_graph_calls_of_a_traced_turn_are_spans_without_the_persons_id(recorded):
    app_id = "6f3d5c1e-2b7a-4c0e-9a51-7f0d2e8b4c11"
    async with FakeGraph() as graph:
        graph.publish_app(app_id)
        person = graph.add_user(displayName=MAIJA.name)
        directory = GraphDirectory(base_url=graph.base_url, tracer=recorded.telemetry.tracer)
        try:
            with recorded.telemetry.tracer.start_as_current_span("notification send"):
                await directory.install_app_for_user(person, app_id)
            await directory.install_app_for_user(person, app_id)  # untraced: no spans
        finally:
            await directory.aclose()

    calls = [span for span in recorded.finished() if span.name.startswith("Graph ")]
    assert [span.name for span in calls] == ["Graph GET", "Graph POST"]
    (post,) = [span for span in calls if span.name == "Graph POST"]
    assert str(_attribute(post, "url.full")).endswith("/v1.0/users/{id}/teamwork/installedApps")
    assert _attribute(post, "http.response.status_code") == 200
    text = everything_in(recorded.finished(), recorded)
    assert person not in text and MAIJA.name not in text


async def test_a_request_that_fails_marks_its_span_without_the_exceptions_words(
    sqlite_engine, recorded
):
    async with running_bot(sqlite_engine, telemetry=recorded.telemetry) as bot:

        async def broken(token: str) -> None:
            raise RuntimeError(f"no copy for {MAIJA.name}")

        bot.components.privacy.download = broken  # type: ignore[method-assign]
        assert (await bot.client.get("/privacy/copy/any-token")).status == 500
        assert (await bot.client.get("/privacy/copy/expired-token")).status == 500

    (failed, _) = [span for span in recorded.finished() if span.kind is SpanKind.SERVER]
    assert failed.status.status_code is StatusCode.ERROR
    assert MAIJA.name not in everything_in(recorded.finished(), recorded)
