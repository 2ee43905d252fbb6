"""What every provider shares: opening an SSE stream, mapping HTTP faults, and retrying before the first token."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.messages import ProviderDelta, TextPiece
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.provider import CONNECT_TIMEOUT_S
from galaxy_chat.observability import metrics
from galaxy_chat.vocabulary.tool_calls import ToolCall

log = logging.getLogger(__name__)

MAX_TRIES = 3
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
MAX_ERROR_BODY = 2000
DRAIN_S = 0.25  # how long to read on after a stream's end marker (see _read_to_end)

STATUS_KINDS = {401: FaultKind.AUTH, 403: FaultKind.AUTH, 404: FaultKind.NOT_FOUND, 429: FaultKind.RATE_LIMITED}


@dataclass
class PartialCall:
    """A tool call arriving in pieces, in either wire format: id and name first, argument fragments after."""

    id: str = ""
    name: str = ""
    fragments: list[str] = field(default_factory=list)


def assembled(calls: dict[int, PartialCall]) -> list[ToolCall]:
    """The complete calls in the model's order (by index); a call without an id gets one."""
    return [
        ToolCall(id=call.id or f"call_{index}", name=call.name, arguments="".join(call.fragments) or "{}")
        for index, call in sorted(calls.items())
    ]


def status_fault(status: int, host: str, body: str, retry_after: float | None) -> LLMError:
    kind = STATUS_KINDS.get(status) or (FaultKind.SERVER if status >= 500 else FaultKind.BAD_REQUEST)
    detail = f"HTTP {status} from {host}: {body[:MAX_ERROR_BODY]}"
    return LLMError(kind, detail, status=status, retry_after=retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def transport_fault(exc: httpx.TransportError, host: str) -> LLMError:
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return LLMError(FaultKind.TIMEOUT, f"{name} talking to {host}")
    if isinstance(exc, httpx.ConnectError):
        return LLMError(FaultKind.CONNECT, f"{name} connecting to {host}: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return LLMError(FaultKind.INCOMPLETE, f"{name} reading from {host}: {exc}")
    return LLMError(FaultKind.CONNECT, f"{name} talking to {host}: {exc}")


def json_payload(event: ServerSentEvent, host: str) -> Any:
    try:
        return json.loads(event.data)
    except json.JSONDecodeError as exc:
        raise LLMError(FaultKind.MALFORMED, f"bad JSON in SSE data from {host}: {exc}: {event.data[:200]!r}") from None


@asynccontextmanager
async def sse_events(
    client: httpx.AsyncClient, config: ModelConfig, url: str, headers: dict[str, str], body: dict[str, Any]
) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
    """POST `body` and yield the server-sent events; every fault comes out as LLMError."""
    host = urlsplit(url).netloc
    timeout = httpx.Timeout(config.timeout_s, connect=CONNECT_TIMEOUT_S)
    all_headers = {**config.headers, **headers, "Accept": "text/event-stream", "Cache-Control": "no-store"}
    try:
        async with client.stream("POST", url, json=body, headers=all_headers, timeout=timeout) as response:
            if response.status_code >= 400:
                raw = (await response.aread()).decode(errors="replace")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise status_fault(response.status_code, host, raw, retry_after)
            events = _guarded(EventSource(response).aiter_sse(), host)
            yield events
            await _read_to_end(events)
    except httpx.TransportError as exc:
        raise transport_fault(exc, host) from None


async def _read_to_end(events: AsyncIterator[ServerSentEvent]) -> None:
    """After the caller stopped at the stream's end marker, read on to the end of the body (normally nothing
    more comes): httpx gives a fully read connection back to its pool, so the next request skips a new TCP
    and TLS handshake. A server that keeps talking is cut off after DRAIN_S."""
    try:
        async with asyncio.timeout(DRAIN_S):
            async for _ in events:
                pass
    except (TimeoutError, LLMError):
        pass  # the reply is complete either way; httpx closes this connection instead of pooling it


async def _guarded(events: AsyncIterator[ServerSentEvent], host: str) -> AsyncIterator[ServerSentEvent]:
    try:
        async for event in events:
            yield event
    except SSEError as exc:
        raise LLMError(FaultKind.MALFORMED, f"not an event stream from {host}: {exc}") from None
    except httpx.TransportError as exc:
        raise transport_fault(exc, host) from None


def backoff_s(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; the server's Retry-After wins when it asks for longer."""
    delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))
    return min(max(delay, retry_after or 0.0), 60.0)


async def with_retries(
    attempt: Callable[[], AsyncIterator[ProviderDelta]], model: str
) -> AsyncIterator[ProviderDelta]:
    """Run `attempt`, retrying 429/5xx up to MAX_TRIES, but only while no text has reached the caller."""
    for number in range(MAX_TRIES):
        started = False
        stream = attempt()
        try:
            async for delta in stream:
                started = started or isinstance(delta, TextPiece)
                yield delta
            return
        except LLMError as exc:
            if started or not exc.kind.retryable or number == MAX_TRIES - 1:
                raise
            delay = backoff_s(number, exc.retry_after)
            metrics.record_retry(model, exc.kind.value)
            log.warning("model %s: %s; retry %d in %.2f s", model, exc.detail, number + 1, delay)
            await asyncio.sleep(delay)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
