"""The app's Prometheus metrics, one registry per process (each replica is scraped on its own).

Labels are bounded: model and tool names come from the configuration, kinds from fixed vocabularies, and
`bounded()` folds anything past a cap into "other", so a surprise can never grow the series without end.
Nothing here records per streamed token: callers record at reply, tool and write boundaries.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PREFIX = "galaxy_chat_"
MAX_VALUES = 64  # distinct values one label may take before the rest are counted as "other"
OTHER = "other"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
LONG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

disable_created_metrics()  # no *_created series: they double what is stored and no dashboard reads them
registry = CollectorRegistry(auto_describe=True)
_seen: dict[str, set[str]] = {}
_lock = threading.Lock()  # the history writer records from its own thread


def bounded(label: str, value: str) -> str:
    """`value` if it is one of the first MAX_VALUES seen for `label`, else "other"."""
    value = value or "none"
    with _lock:
        seen = _seen.setdefault(label, set())
        if value in seen:
            return value
        if len(seen) >= MAX_VALUES:
            return OTHER
        seen.add(value)
        return value


def _counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(PREFIX + name, doc, labels, registry=registry)


def _histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
    return Histogram(PREFIX + name, doc, labels, registry=registry, buckets=buckets)


def _gauge(name: str, doc: str) -> Gauge:
    return Gauge(PREFIX + name, doc, registry=registry)


HTTP_REQUESTS = _counter("http_requests_total", "HTTP requests answered, by route template and status.",
                         ("route", "method", "status"))
HTTP_DURATION = _histogram("http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
                           ("route",), FAST_BUCKETS)
WEBSOCKETS = _gauge("websocket_connections", "WebSocket connections open now on this replica.")
OPEN_PAGES = _gauge("open_pages", "Chat pages (NiceGUI clients) open now on this replica.")
LIVE_SESSIONS = _gauge("live_sessions", "Live chat sessions held in memory by this replica.")

REPLIES_STARTED = _counter("replies_started_total", "Model replies started, by model.", ("model",))
REPLIES_ENDED = _counter("replies_ended_total", "Model replies ended, by model and outcome (finished, stopped, "
                         "failed).", ("model", "outcome"))
FIRST_TOKEN = _histogram("time_to_first_token_seconds", "From a reply's start to its first token, by model.",
                         ("model",), LATENCY_BUCKETS)
REPLY_DURATION = _histogram("reply_duration_seconds", "From a reply's start to its end, by model.", ("model",),
                            LONG_BUCKETS)
TOKENS = _counter("tokens_total", "Tokens the models reported, by model and direction (in, out).",
                  ("model", "direction"))
LLM_ERRORS = _counter("llm_errors_total", "Replies that ended in an error, by model and kind.", ("model", "kind"))
LLM_RETRIES = _counter("llm_retries_total", "Model requests retried after a 429 or 5xx, by model and kind.",
                       ("model", "kind"))

TOOL_CALLS = _counter("tool_calls_total", "Tool calls run, by tool (MCP tools: tool=mcp, by server).",
                      ("tool", "server"))
TOOL_ERRORS = _counter("tool_errors_total", "Tool calls that returned an error, by tool.", ("tool", "server"))
TOOL_TIMEOUTS = _counter("tool_timeouts_total", "Tool calls stopped at their time limit, by tool.",
                         ("tool", "server"))
TOOL_DURATION = _histogram("tool_duration_seconds", "Time one tool call took, by tool.", ("tool", "server"),
                           LATENCY_BUCKETS)
SANDBOX_RUNS = _counter("sandbox_runs_total", "Python tool runs, by isolation (bwrap, landlock, none).",
                        ("isolation",))
RATE_LIMITED = _counter("rate_limit_refusals_total", "Messages refused by MESSAGES_PER_MINUTE.")

HISTORY_WRITES = _histogram("history_write_seconds", "Time one batch of history writes took.", (), FAST_BUCKETS)
HISTORY_FAILURES = _counter("history_write_failures_total", "History write batches that failed (rows kept, retried).")
HISTORY_HEALTHY = _gauge("history_store_healthy", "1 while the history store accepts writes, 0 while it does not.")
COORDINATOR_DEGRADED = _gauge("coordinator_degraded", "1 while this replica cannot reach Redis (REDIS_URL), else 0.")
REPLIES_FOLLOWED = _counter("replies_followed_total", "Replies shown here while another replica ran them, by how "
                            "they ended (done, interrupted, caught_up).", ("outcome",))
LOOP_LAG = _histogram("event_loop_lag_seconds", "How late the event loop ran a periodic timer.", (),
                      (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


def tool_labels(name: str) -> tuple[str, str]:
    """(tool, server): an MCP tool `<server>__<tool>` is counted by its server, a built-in tool by name."""
    server, separator, _ = name.partition("__")
    if separator:
        return "mcp", bounded("server", server)
    return bounded("tool", name), ""


def record_tool(name: str, duration_s: float, is_error: bool, timed_out: bool = False) -> None:
    labels = tool_labels(name)
    TOOL_CALLS.labels(*labels).inc()
    TOOL_DURATION.labels(*labels).observe(duration_s)
    if is_error:
        TOOL_ERRORS.labels(*labels).inc()
    if timed_out:
        TOOL_TIMEOUTS.labels(*labels).inc()


def record_retry(model: str, kind: str) -> None:
    LLM_RETRIES.labels(bounded("model", model), bounded("kind", kind)).inc()


def timed(histogram: Histogram, active: bool = True) -> AbstractContextManager[object]:
    """Observe the block's duration in `histogram` (or nothing when not `active`)."""
    return histogram.time() if active else contextlib.nullcontext()


def watch_gauge(gauge: Gauge, read: Callable[[], float]) -> None:
    """Read `gauge` from `read()` at scrape time (e.g. the number of open pages)."""
    gauge.set_function(read)


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def metric_names() -> set[str]:
    """Every sample name this process exports (with _total, _bucket, _count, _sum ...)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names
