"""A local stand-in for where telemetry goes: an OpenTelemetry collector's OTLP/HTTP receiver
(protobuf, as the exporter sends it) and Application Insights' ingestion endpoint (the JSON
envelopes Azure Monitor's exporter posts). Tests and benchmarks point the real exporters here."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    service: str


@dataclass
class FakeCollector:
    """What arrived, by signal: spans, metric names, Azure Monitor envelopes by type."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    metric_names: Counter[str] = field(default_factory=Counter)
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    count_only: bool = False
    span_count: int = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/metrics", self._metrics)
        # `{IngestionEndpoint}/v2.1/track`, however the endpoint's slashes fall.
        app.router.add_post("/{path:.*/track}", self._track)
        app.router.add_get("/stats", self._stats)
        return app

    def envelope_types(self) -> Counter[str]:
        return Counter(str(envelope.get("name", "")) for envelope in self.envelopes)

    async def _traces(self, request: web.Request) -> web.Response:
        exported = ExportTraceServiceRequest()
        if not await _parse(request, exported):
            return web.Response(status=400, text="not an ExportTraceServiceRequest")
        for resource_spans in exported.resource_spans:
            service = _service(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                self.span_count += len(scope_spans.spans)
                if self.count_only:
                    continue
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            span.name,
                            span.kind,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            {item.key: _value(item.value) for item in span.attributes},
                            service,
                        )
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type=PROTOBUF)

    async def _metrics(self, request: web.Request) -> web.Response:
        exported = ExportMetricsServiceRequest()
        if not await _parse(request, exported):
            return web.Response(status=400, text="not an ExportMetricsServiceRequest")
        for resource_metrics in exported.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                self.metric_names.update(metric.name for metric in scope_metrics.metrics)
        body = ExportMetricsServiceResponse().SerializeToString()
        return web.Response(body=body, content_type=PROTOBUF)

    async def _track(self, request: web.Request) -> web.Response:
        """Application Insights' Track API: a JSON array (or lines) of envelopes, maybe gzip."""
        raw = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        text = raw.decode()
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        items = items if isinstance(items, list) else [items]
        self.envelopes += items
        return web.json_response(
            {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        )

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"spans": self.span_count, "metrics": sum(self.metric_names.values())}
        )


async def _parse(request: web.Request, message: Any) -> bool:
    raw = await request.read()
    if request.headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        message.ParseFromString(raw)
    except DecodeError:
        return False
    return True


def _service(attributes: Any) -> str:
    for item in attributes:
        if item.key == "service.name":
            return str(_value(item.value))
    return ""


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
