"""The observability parts on their own: JSON log lines, the event-loop lag timer, rate-limit refusals and
label bounds, read back from the real registry and a real logging handler."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import pytest

from galaxy_chat.core.limits import RateLimiter, SendRefused
from galaxy_chat.observability import metrics
from galaxy_chat.observability.log_format import JsonFormatter, current_session
from galaxy_chat.observability.loop_lag import LoopLagTimer


def sample(name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_json_lines_carry_the_session_and_the_traceback() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("galaxy_chat.test_json")
    logger.addHandler(handler)
    logger.propagate = False
    token = current_session.set("s-123")
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logger.exception("it broke: %s", "badly")
        current_session.reset(token)
        logger.warning("no session here")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "it broke: badly" and first["level"] == "ERROR" and first["session"] == "s-123"
    assert first["logger"] == "galaxy_chat.test_json" and "ZeroDivisionError" in first["exc_info"]
    assert first["time"].endswith("+00:00")
    assert "session" not in second and "exc_info" not in second


async def test_a_blocked_loop_shows_in_the_lag_histogram() -> None:
    before = sample("galaxy_chat_event_loop_lag_seconds_sum")
    timer = LoopLagTimer(interval_s=0.02)
    timer.start()
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # a blocking call: the timer wakes ~0.3 s late
    await asyncio.sleep(0.05)
    await timer.stop()
    assert sample("galaxy_chat_event_loop_lag_seconds_sum") - before >= 0.25


def test_rate_limit_refusals_are_counted() -> None:
    before = sample("galaxy_chat_rate_limit_refusals_total")
    limiter = RateLimiter(per_minute=1)
    limiter.check("ada@example.com")
    with pytest.raises(SendRefused):
        limiter.check("ada@example.com")
    assert sample("galaxy_chat_rate_limit_refusals_total") - before == 1


def test_labels_past_the_cap_are_other_and_mcp_tools_count_by_server() -> None:
    values = [metrics.bounded("test_label", f"v{i}") for i in range(metrics.MAX_VALUES + 5)]
    assert values[:metrics.MAX_VALUES] == [f"v{i}" for i in range(metrics.MAX_VALUES)]
    assert set(values[metrics.MAX_VALUES:]) == {metrics.OTHER}
    assert metrics.bounded("test_label", "v0") == "v0"  # a value seen before keeps its name
    assert metrics.tool_labels("tickets__create") == ("mcp", "tickets")
    assert metrics.tool_labels("calculator") == ("calculator", "")
