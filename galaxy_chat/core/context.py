"""Fitting the history into the model's context window, dropping the oldest turns first.

Token estimate: characters / 3 (rounded up) plus 4 tokens per message. Real tokenisers give about 4
characters per token for English prose and 2-3 for code, JSON and most other languages; dividing by 3 errs
on the side of sending less rather than having the provider refuse an over-long request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from galaxy_chat.llm.messages import Message
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.vocabulary.tool_calls import ToolSpec

CHARS_PER_TOKEN = 3
IMAGE_TOKENS = 1_000  # what providers charge for an image of a usual size, roughly (OpenAI: 85-1,105; Anthropic ~1,600)
MESSAGE_OVERHEAD = 4  # role markers and separators every chat format adds around a message
DEFAULT_REPLY_RESERVE = 1024  # room left for the reply when the model has no max_tokens


def count_chars(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_tokens(message: Message) -> int:
    tokens = MESSAGE_OVERHEAD + count_chars(message.content) + IMAGE_TOKENS * len(message.images)
    for call in message.tool_calls:
        tokens += MESSAGE_OVERHEAD + count_chars(call.name) + count_chars(call.arguments)
    return tokens


def estimate_tool_specs(specs: list[ToolSpec]) -> int:
    return sum(count_chars(spec.name + spec.description + json.dumps(spec.parameters)) for spec in specs)


def input_budget(config: ModelConfig, specs: list[ToolSpec]) -> int:
    """Tokens the messages may use: the window minus room for the reply and the tool definitions."""
    reserve = config.max_tokens or min(DEFAULT_REPLY_RESERVE, config.context_window // 4)
    return config.context_window - reserve - estimate_tool_specs(specs)


@dataclass(frozen=True)
class Fitted:
    messages: list[Message]  # the system prompt first, then the history that fits
    dropped: int  # history messages left out
    tokens: int  # estimated tokens of `messages`


def _units(history: list[Message]) -> list[tuple[int, int]]:
    """Half-open index ranges that stay together: an assistant message with tool calls and its results."""
    units = []
    start = 0
    while start < len(history):
        end = start + 1
        if history[start].role == "assistant" and history[start].tool_calls:
            while end < len(history) and history[end].role == "tool":
                end += 1
        units.append((start, end))
        start = end
    return units


def fit_context(system: Message, history: list[Message], budget: int) -> Fitted:
    """Drop whole units, oldest first, until the estimate fits `budget`.

    Never dropped: the system prompt, the newest user message and the newest unit (the latest tool
    results, which the model needs to go on). When even those do not fit they are sent anyway and the
    provider's refusal reaches the person as an error.
    """
    units = _units(history)
    sizes = [sum(estimate_tokens(m) for m in history[a:b]) for a, b in units]
    newest_user = max((i for i, (a, _) in enumerate(units) if history[a].role == "user"), default=-1)
    pinned = {newest_user, len(units) - 1}
    kept = [True] * len(units)
    total = estimate_tokens(system) + sum(sizes)
    for i in range(len(units)):
        if total <= budget:
            break
        if i not in pinned:
            kept[i] = False
            total -= sizes[i]
    if not all(kept):
        # After a cut the history should open with a user message (Anthropic requires it, all accept it).
        for i in range(len(units)):
            if not kept[i]:
                continue
            if i in pinned or history[units[i][0]].role == "user":
                break
            kept[i] = False
            total -= sizes[i]
    messages = [system]
    for keep, (a, b) in zip(kept, units, strict=True):
        if keep:
            messages.extend(history[a:b])
    return Fitted(messages, len(history) + 1 - len(messages), total)
