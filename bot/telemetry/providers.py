"""OpenTelemetry for one process: metrics and traces, exported where the settings say.

- `PROMETHEUS_METRICS=true`: metrics as Prometheus text at `GET /metrics`;
- `OTEL_EXPORTER_OTLP_ENDPOINT`: metrics and traces to an OTLP/HTTP collector;
- `APPLICATIONINSIGHTS_CONNECTION_STRING`: all of it, and the program's log lines, to Azure
  Monitor through Microsoft's exporters.

With none of them set nothing is recorded (the API's no-op instruments) and nothing is traced.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings, keep_azure_monitor_to_the_city
from bot.telemetry.instruments import METER_NAME, Instruments, unrecorded
from bot.telemetry.loop_lag import measure_loop_lag
from bot.telemetry.sql import trace_statements

TRACER_NAME = "puhelinbotti"
# The log lines shipped to Azure Monitor: the program's own (no access log, no library chatter).
SHIPPED_LOGGER = "bot"


@dataclass
class Telemetry:
    """What this process records and where it goes; `off()` records nothing."""

    instruments: Instruments = field(default_factory=unrecorded)
    tracer: trace.Tracer = field(default_factory=trace.NoOpTracer)
    meter_provider: MeterProvider | None = None
    tracer_provider: TracerProvider | None = None
    prometheus: CollectorRegistry | None = None
    metrics_token: str = ""
    log_handler: logging.Handler | None = None
    logger_provider: LoggerProvider | None = None
    _untrace: list[Callable[[], None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def off(cls) -> Telemetry:
        return cls()

    @property
    def recording(self) -> bool:
        return self.meter_provider is not None

    @property
    def tracing(self) -> bool:
        return self.tracer_provider is not None

    def trace_database(self, engine: AsyncEngine) -> None:
        """A span per SQL statement of a traced turn (placeholders, never the values)."""
        if self.tracer_provider is not None:
            self._untrace.append(trace_statements(engine, self.tracer))

    def start(self, sample_gauges: Callable[[], Awaitable[None]], interval: float) -> None:
        """The loop-lag ticker and the database gauges' sampler, while metrics are recorded."""
        if not self.recording:
            return
        from bot.background import repeat

        self._tasks.append(asyncio.create_task(measure_loop_lag(self.instruments, self._stop)))
        self._tasks.append(
            asyncio.create_task(repeat(sample_gauges, interval, self._stop, "metrics sampling"))
        )

    async def shutdown(self) -> None:
        """Stops the timers and flushes what is still buffered to the exporters."""
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for untrace in self._untrace:
            untrace()
        self._untrace.clear()
        # Exporters send over blocking HTTP: off the event loop.
        if self.log_handler is not None:
            logging.getLogger(SHIPPED_LOGGER).removeHandler(self.log_handler)
            self.log_handler = None
        if self.logger_provider is not None:
            await asyncio.to_thread(self.logger_provider.shutdown)
        if self.tracer_provider is not None:
            await asyncio.to_thread(self.tracer_provider.shutdown)
        if self.meter_provider is not None:
            await asyncio.to_thread(self.meter_provider.shutdown)


def start_telemetry(settings: Settings) -> Telemetry:
    """Providers for the exporters the settings ask for, this process's own: nothing is
    installed globally, so no library traces or logs through OpenTelemetry's global API behind
    the program's back (Graph's client would put people's ids into URLs there)."""
    resource = _resource(settings)
    readers: list[MetricReader] = []
    processors: list[SpanProcessor] = []
    registry: CollectorRegistry | None = None
    if settings.prometheus_metrics:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        registry = CollectorRegistry(auto_describe=True)
        readers.append(PrometheusMetricReader(registry=registry, scope_info_enabled=False))
    if settings.otlp_endpoint:
        readers.append(_otlp_metrics(settings))
        processors.append(_otlp_spans(settings))
    log_handler: logging.Handler | None = None
    logger_provider: LoggerProvider | None = None
    connection_string = settings.applicationinsights_connection_string.get_secret_value()
    if connection_string:
        reader, processor, logger_provider = _azure_monitor(connection_string, resource, settings)
        log_handler = _ship_logs(logger_provider)
        readers.append(reader)
        processors.append(processor)
    meter_provider = MeterProvider(metric_readers=readers, resource=resource) if readers else None
    tracer_provider = None
    if processors:
        sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
        tracer_provider = TracerProvider(resource=resource, sampler=sampler)
        for processor in processors:
            tracer_provider.add_span_processor(processor)
    return Telemetry(
        instruments=Instruments(meter_provider.get_meter(METER_NAME))
        if meter_provider is not None
        else unrecorded(),
        tracer=tracer_provider.get_tracer(TRACER_NAME)
        if tracer_provider is not None
        else trace.NoOpTracer(),
        meter_provider=meter_provider,
        tracer_provider=tracer_provider,
        prometheus=registry,
        metrics_token=settings.prometheus_metrics_token.get_secret_value(),
        log_handler=log_handler,
        logger_provider=logger_provider,
    )


def _resource(settings: Settings) -> Resource:
    return Resource.create(
        {
            "service.name": settings.otel_service_name,
            "service.version": version("puhelinbotti"),
            "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
        }
    )


def _otlp_metrics(settings: Settings) -> MetricReader:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    exporter = OTLPMetricExporter(endpoint=f"{settings.otlp_endpoint}/v1/metrics")
    return PeriodicExportingMetricReader(
        exporter, export_interval_millis=settings.metrics_export_seconds * 1000
    )


def _otlp_spans(settings: Settings) -> SpanProcessor:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces"))


def _azure_monitor(
    connection_string: str, resource: Resource, settings: Settings
) -> tuple[MetricReader, SpanProcessor, LoggerProvider]:
    """Azure Monitor's own exporters (those its distro is built on) for metrics, spans and the
    `bot.*` log lines. Not the distro itself: it installs itself globally and switches on
    instrumentations of httpx, requests and urllib that record whole URLs, with people's ids in
    them. Telemetry goes only to the city's resource: the SDK's reports on itself to Microsoft
    (statsbeat) and its remote configuration stay off unless an operator sets them."""
    from azure.monitor.opentelemetry.exporter import (
        AzureMonitorLogExporter,
        AzureMonitorMetricExporter,
        AzureMonitorTraceExporter,
    )
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    keep_azure_monitor_to_the_city()
    metric_exporter = AzureMonitorMetricExporter.from_connection_string(connection_string)
    reader = PeriodicExportingMetricReader(
        metric_exporter, export_interval_millis=settings.metrics_export_seconds * 1000
    )
    spans = BatchSpanProcessor(AzureMonitorTraceExporter.from_connection_string(connection_string))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(AzureMonitorLogExporter.from_connection_string(connection_string))
    )
    return reader, spans, logger_provider


def _ship_logs(logger_provider: LoggerProvider) -> logging.Handler:
    """The program's log lines (already free of personal data) go out through the provider."""
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    handler = LoggingHandler(logger_provider=logger_provider)
    logging.getLogger(SHIPPED_LOGGER).addHandler(handler)
    return handler
