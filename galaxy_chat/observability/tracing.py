"""Optional OpenTelemetry traces: a span per reply, children for model calls, tool calls and retrieval.

Off unless an OTLP endpoint is configured by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off). The SDK
reads the rest itself (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*).
While off, `span()` hands out one shared null context and OpenTelemetry is never imported.
Attributes are ids, names and counts, never message text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "galaxy-chat"
_OFF: AbstractContextManager[None] = contextlib.nullcontext()
_state: dict[str, Any] = {"tracer": None, "provider": None}


def wanted(environ: Mapping[str, str]) -> bool:
    """True when the OTEL_* variables ask for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure(environ: Mapping[str, str]) -> bool:
    """Start exporting spans over OTLP/HTTP (protobuf) when the environment asks for it; True if it does."""
    if _state["tracer"] is not None or not wanted(environ):
        return _state["tracer"] is not None
    # Imported here: a deployment without OTLP pays nothing for the SDK at start or per reply.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Our own provider, not the process-wide one: shutdown() really ends it, and a later configure() starts anew.
    _state.update(tracer=provider.get_tracer("galaxy_chat"), provider=provider)
    log.info("tracing: exporting spans over OTLP/HTTP")
    return True


def enabled() -> bool:
    return _state["tracer"] is not None


def span(name: str, **attributes: str | int | float | bool) -> AbstractContextManager[Any]:
    """A span under the current one (a no-op while tracing is off); it records an exception that escapes."""
    tracer = _state["tracer"]
    if tracer is None:
        return _OFF
    return tracer.start_as_current_span(name, attributes=attributes)


@contextlib.contextmanager
def reply_span(session_id: str, kind: str) -> Iterator[Any]:
    """The root span of one turn (a model reply or a command), with the session id as its attribute."""
    with span("reply", **{"galaxy_chat.session_id": session_id, "galaxy_chat.turn_kind": kind}) as current:
        yield current


def mark_error(current: Any, kind: str) -> None:
    """Flag the span (if any) as failed, with the error's kind (never its text)."""
    if current is None:
        return
    from opentelemetry.trace import Status, StatusCode

    current.set_attribute("galaxy_chat.error_kind", kind)
    current.set_status(Status(StatusCode.ERROR, kind))


def shutdown() -> None:
    """Export what is still buffered (at app shutdown)."""
    provider = _state["provider"]
    if provider is not None:
        provider.shutdown()
        _state.update(tracer=None, provider=None)
