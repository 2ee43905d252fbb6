"""Metrics after a scripted conversation (a tool round trip, then a model error after a retry), scraped from
the running app's /metrics and parsed as Prometheus parses them. The registry lives as long as the process,
so each figure is compared with a scrape taken before the conversation."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from tests.page_helpers import model_file, send, wait_until_idle

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(user) -> Samples:
    response = await user.http_client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_conversation_with_a_tool_call_and_a_model_error_is_counted(simulated_app, llm_server,
                                                                             tmp_path) -> None:
    llm_server.script(
        Reply(200, openai_tool_calls(("call_1", "calculator", ['{"expression": "6*7"}']))),
        Reply(200, openai_text("The answer ", "is 42.", usage=(30, 7))),
        Reply.json({"error": {"message": "overloaded"}}, status=503),  # retried once ...
        Reply.json({"error": {"message": "bad request"}}, status=400),  # ... then it fails for good
    )
    async with simulated_app(TEST_MODE="true", **model_file(tmp_path, llm_server)) as user:
        await user.open("/")
        before = await scrape(user)
        await send(user, "What is 6 times 7?")
        await wait_until_idle(user)
        await send(user, "And now?")
        await wait_until_idle(user)
        after = await scrape(user)
        for _ in range(40):  # the history writer flushes on its own schedule (its own thread)
            if delta(before, after, "galaxy_chat_history_write_seconds_count") >= 1:
                break
            await asyncio.sleep(0.05)
            after = await scrape(user)

    model = {"model": "Scripted"}
    assert delta(before, after, "galaxy_chat_replies_started_total", **model) == 2
    assert delta(before, after, "galaxy_chat_replies_ended_total", outcome="finished", **model) == 1
    assert delta(before, after, "galaxy_chat_replies_ended_total", outcome="failed", **model) == 1
    assert delta(before, after, "galaxy_chat_llm_errors_total", kind="bad_request", **model) == 1
    assert delta(before, after, "galaxy_chat_llm_retries_total", kind="server", **model) == 1
    assert delta(before, after, "galaxy_chat_tool_calls_total", tool="calculator", server="") == 1
    assert delta(before, after, "galaxy_chat_tool_errors_total", tool="calculator", server="") == 0
    assert delta(before, after, "galaxy_chat_tool_duration_seconds_count", tool="calculator", server="") == 1
    assert delta(before, after, "galaxy_chat_tokens_total", direction="in", **model) == 30
    assert delta(before, after, "galaxy_chat_tokens_total", direction="out", **model) == 7
    assert delta(before, after, "galaxy_chat_time_to_first_token_seconds_count", **model) == 1  # the error had none
    assert delta(before, after, "galaxy_chat_reply_duration_seconds_count", **model) == 2
    assert after[("galaxy_chat_live_sessions", ())] >= 1
    assert delta(before, after, "galaxy_chat_history_write_seconds_count") >= 1
    assert after[("galaxy_chat_history_store_healthy", ())] == 1
    assert delta(before, after, "galaxy_chat_http_requests_total", route="/metrics", method="GET", status="200") == 1
