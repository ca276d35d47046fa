"""OpenTelemetry for one process: metrics and traces, exported where the settings say.

- `PROMETHEUS_METRICS=true`: metrics as Prometheus text at `GET /metrics`;
- `OTEL_EXPORTER_OTLP_ENDPOINT`: metrics and traces to an OTLP/HTTP collector;
- `APPLICATIONINSIGHTS_CONNECTION_STRING`: all of it to Azure Monitor through Microsoft's
  OpenTelemetry distro, which also ships the log lines and traces the Azure SDK's calls.

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

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.telemetry.instruments import METER_NAME, Instruments, unrecorded
from bot.telemetry.loop_lag import measure_loop_lag
from bot.telemetry.sql import trace_statements

log = logging.getLogger(__name__)
TRACER_NAME = "puhelinbotti"
# Azure Monitor's SDK reports on itself to Microsoft and fetches settings from it unless told.
ONLY_TO_THE_CITY = (
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
    "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED",
)


@dataclass
class Telemetry:
    """What this process records and where it goes; `off()` records nothing."""

    instruments: Instruments = field(default_factory=unrecorded)
    tracer: trace.Tracer = field(default_factory=trace.NoOpTracer)
    meter_provider: MeterProvider | None = None
    tracer_provider: TracerProvider | None = None
    prometheus: CollectorRegistry | None = None
    metrics_token: str = ""
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
            asyncio.create_task(
                repeat(sample_gauges, interval, self._stop, "metrics sampling", self)
            )
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
        if self.tracer_provider is not None:
            await asyncio.to_thread(self.tracer_provider.shutdown)
        if self.meter_provider is not None:
            await asyncio.to_thread(self.meter_provider.shutdown)


def start_telemetry(settings: Settings, *, install_globally: bool = False) -> Telemetry:
    """Providers for the exporters the settings ask for. `install_globally` (a serving or
    dispatching process) also makes them the process's own, so libraries that trace through the
    global API (Graph's client) join in; Azure Monitor's distro always installs globally."""
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
    connection_string = settings.applicationinsights_connection_string.get_secret_value()
    meter_provider: MeterProvider | None
    tracer_provider: TracerProvider | None
    if connection_string:
        meter_provider, tracer_provider = _azure_monitor(
            connection_string, resource, readers, processors, settings.trace_sample_ratio
        )
    else:
        meter_provider = None
        if readers:
            meter_provider = MeterProvider(metric_readers=readers, resource=resource)
        tracer_provider = None
        if processors:
            sampler = ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
            tracer_provider = TracerProvider(resource=resource, sampler=sampler)
            for processor in processors:
                tracer_provider.add_span_processor(processor)
        if install_globally and meter_provider is not None:
            metrics.set_meter_provider(meter_provider)
        if install_globally and tracer_provider is not None:
            trace.set_tracer_provider(tracer_provider)
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
    connection_string: str,
    resource: Resource,
    readers: list[MetricReader],
    processors: list[SpanProcessor],
    sample_ratio: float,
) -> tuple[MeterProvider, TracerProvider]:
    """Microsoft's distro builds the providers (with our readers and span processors beside
    its own exporters) and installs them globally. Telemetry goes only to the city's own
    resource: live metrics stay off (a connection held open for a portal nobody may watch), and
    so, unless an operator sets them, do the SDK's own usage reports to Microsoft (statsbeat)
    and its remote configuration."""
    from azure.monitor.opentelemetry import configure_azure_monitor

    for name in ONLY_TO_THE_CITY:
        os.environ.setdefault(name, "true")
    configure_azure_monitor(
        connection_string=connection_string,
        resource=resource,
        metric_readers=readers,
        span_processors=processors,
        sampling_ratio=sample_ratio,
        enable_live_metrics=False,
        logger_name="bot",
    )
    meter_provider = metrics.get_meter_provider()
    tracer_provider = trace.get_tracer_provider()
    if not isinstance(meter_provider, MeterProvider) or not isinstance(
        tracer_provider, TracerProvider
    ):
        raise RuntimeError("Azure Monitor's distro did not install OpenTelemetry's providers")
    return meter_provider, tracer_provider
