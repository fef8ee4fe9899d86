"""A local OTLP/HTTP trace receiver: decodes the protobuf exports the OpenTelemetry SDK sends.

    fake = FakeOTLP().start()      # OTEL_EXPORTER_OTLP_ENDPOINT=fake.url (spans POSTed to /v1/traces)
    fake.spans                     # every span received, as ReceivedSpan (hex ids, kind name, attributes)
    fake.trace(trace_id)           # the spans of one trace
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.fakes.http_server import Answer, FakeHTTPServer


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str  # SERVER, CLIENT, CONSUMER, INTERNAL, PRODUCER
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class FakeOTLP(FakeHTTPServer):
    """Accepts `POST /v1/traces` (application/x-protobuf, optionally gzip/deflate) and keeps the spans."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[ReceivedSpan] = []
        self.exports = 0

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if method != "POST" or path != "/v1/traces":
            return self.json(404, {"error": "not found"})
        encoding = (headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(ReceivedSpan(
                        service=str(resource.get("service.name")), name=span.name,
                        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes}))
        with self.lock:
            self.spans.extend(received)
            self.exports += 1
        answer = ExportTraceServiceResponse().SerializeToString()
        return 200, {"Content-Type": "application/x-protobuf"}, answer

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans received so far for `trace_id`."""
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]
