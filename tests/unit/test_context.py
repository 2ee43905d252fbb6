"""Fitting the history into the context window: oldest turns go first, nothing essential is ever lost."""

from __future__ import annotations

from galaxy_chat.core.context import (
    DEFAULT_REPLY_RESERVE,
    MESSAGE_OVERHEAD,
    estimate_tokens,
    estimate_tool_specs,
    fit_context,
    input_budget,
)
from galaxy_chat.llm.messages import Message
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec

SYSTEM = Message("system", "Be brief.")


def user(text: str) -> Message:
    return Message("user", text)


def assistant(text: str) -> Message:
    return Message("assistant", text)


def exchange(call_id: str, result: str) -> list[Message]:
    return [Message("assistant", "", tool_calls=[ToolCall(call_id, "sql", '{"q": 1}')]),
            Message("tool", result, tool_call_id=call_id, name="sql")]


def model(**fields: object) -> ModelConfig:
    return ModelConfig(name="m", provider="openai", base_url="http://x", model_name="m", **fields)


def test_estimate_is_chars_over_three_plus_overhead() -> None:
    assert estimate_tokens(user("")) == MESSAGE_OVERHEAD
    assert estimate_tokens(user("abcdefg")) == MESSAGE_OVERHEAD + 3
    with_call = Message("assistant", "", tool_calls=[ToolCall("c", "abc", "123456")])
    assert estimate_tokens(with_call) == 2 * MESSAGE_OVERHEAD + 1 + 2


def test_budget_leaves_room_for_the_reply_and_the_tool_definitions() -> None:
    spec = ToolSpec("sql", "Run SQL.", {"type": "object"})
    assert input_budget(model(context_window=8192, max_tokens=1000), []) == 7192
    expected = 8192 - DEFAULT_REPLY_RESERVE - estimate_tool_specs([spec])
    assert input_budget(model(context_window=8192), [spec]) == expected
    assert input_budget(model(context_window=1000), []) == 750  # small windows keep a quarter for the reply


def test_everything_is_sent_when_it_fits() -> None:
    history = [user("a"), assistant("b"), user("c")]
    fitted = fit_context(SYSTEM, history, 10_000)
    assert fitted.messages == [SYSTEM, *history] and fitted.dropped == 0
    assert fitted.tokens == sum(estimate_tokens(m) for m in fitted.messages)


def test_oldest_turns_are_dropped_first() -> None:
    history = [user("old " * 30), assistant("old answer " * 30), user("mid"), assistant("mid answer"), user("new")]
    budget = sum(estimate_tokens(m) for m in [SYSTEM, *history[2:]])
    fitted = fit_context(SYSTEM, history, budget)
    assert fitted.messages == [SYSTEM, *history[2:]]
    assert fitted.dropped == 2 and fitted.tokens <= budget


def test_system_prompt_and_newest_user_message_survive_any_budget() -> None:
    history = [user("one"), assistant("two"), user("the newest " * 100)]
    fitted = fit_context(SYSTEM, history, 1)
    assert fitted.messages == [SYSTEM, history[-1]]


def test_a_tool_exchange_goes_whole_or_not_at_all() -> None:
    old = [user("q1"), *exchange("c1", "result " * 50), assistant("a1")]
    history = [*old, user("q2")]
    # A budget that would fit the tool result alone but not the whole exchange.
    budget = sum(estimate_tokens(m) for m in [SYSTEM, history[-1], old[2]])
    fitted = fit_context(SYSTEM, history, budget)
    kept_calls = [c.id for m in fitted.messages for c in m.tool_calls]
    kept_results = [m.tool_call_id for m in fitted.messages if m.role == "tool"]
    assert kept_calls == kept_results == []
    assert fitted.messages == [SYSTEM, history[-1]]  # the stray answer "a1" goes too: start with a user


def test_the_latest_tool_results_of_the_current_reply_are_kept() -> None:
    history = [user("old " * 50), assistant("old answer " * 50), user("now"), *exchange("c1", "first " * 40),
               *exchange("c2", "second")]
    fitted = fit_context(SYSTEM, history, 60)
    assert fitted.messages == [SYSTEM, history[2], *history[5:]]  # the older exchange goes, whole
    ids = [m.tool_call_id for m in fitted.messages if m.role == "tool"]
    assert ids == ["c2"]


def test_after_a_cut_the_history_starts_with_a_user_message() -> None:
    history = [user("a " * 40), assistant("b"), user("c"), assistant("d"), user("e")]
    budget = sum(estimate_tokens(m) for m in [SYSTEM, *history[1:]])
    fitted = fit_context(SYSTEM, history, budget)
    assert fitted.messages[1].role == "user"
    assert fitted.messages == [SYSTEM, *history[2:]]
