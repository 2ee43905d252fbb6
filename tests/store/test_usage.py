"""Usage over a period, as the admin page reads it: aggregate SQL over real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from galaxy_chat.store.sql_store import SqlHistoryStore

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


async def reply(store: SqlHistoryStore, owner: str, chat: str, model: str, tokens: tuple[int, int],
                records: list[dict[str, object]], when: datetime) -> None:
    question = await store.append_message(owner, chat, "user", text="q", now=when)
    answer = await store.append_message(owner, chat, "assistant", model=model, after=question, now=when)
    await store.append_parts(owner, answer, [{"type": "text_delta", "text": "a"}, *records], now=when)
    await store.finish_message(owner, answer, {"type": "done", "usage": {"input_tokens": tokens[0],
                                                                         "output_tokens": tokens[1]},
                                               "duration_s": 1.0, "stopped": False}, now=when)


async def test_usage_adds_up_replies_tokens_tools_and_errors_per_period(store: SqlHistoryStore) -> None:
    ada = await store.create_conversation("ada@example.com", now=NOW)
    bob = await store.create_conversation("bob@example.com", now=NOW)
    tool_ok = {"type": "tool_call_finished", "name": "calculator", "is_error": False, "text": "3"}
    tool_bad = {"type": "tool_call_finished", "name": "calculator", "is_error": True, "text": "no"}
    await reply(store, "ada@example.com", ada, "GPT", (10, 5), [tool_ok, tool_bad], NOW)
    await reply(store, "ada@example.com", ada, "Claude", (7, 3), [], NOW + timedelta(hours=1))
    await reply(store, "bob@example.com", bob, "GPT", (1, 2), [{"type": "error", "kind": "timeout",
                                                                  "message": "m"}], NOW + timedelta(days=1))
    await reply(store, "bob@example.com", bob, "GPT", (100, 100), [], NOW - timedelta(days=30))  # outside

    report = await store.usage(NOW - timedelta(days=1), NOW + timedelta(days=2))

    assert {(r.key, r.count, r.input_tokens, r.output_tokens) for r in report.by_model} == {
        ("GPT", 2, 11, 7), ("Claude", 1, 7, 3)}
    assert {(r.key, r.count, r.input_tokens, r.output_tokens) for r in report.by_user} == {
        ("ada@example.com", 2, 17, 8), ("bob@example.com", 1, 1, 2)}
    assert [(r.key, r.count, r.errors) for r in report.by_tool] == [("calculator", 2, 1)]
    assert [(r.key, r.count) for r in report.errors] == [("timeout", 1)]
    assert [(r.key, r.model, r.count) for r in report.by_day] == [
        ("2026-05-04", "Claude", 1), ("2026-05-04", "GPT", 1), ("2026-05-05", "GPT", 1)]
    empty = await store.usage(NOW + timedelta(days=5), NOW + timedelta(days=6))
    assert empty.by_model == [] and empty.by_tool == [] and empty.errors == []
