"""Builders for the LLM wire formats the scripted server speaks (OpenAI chunks, Anthropic events)."""

from __future__ import annotations

from typing import Any

from galaxy_chat.testing.llm_server import Reply, sse

DONE = b"data: [DONE]\n\n"


def openai_chunk(delta: dict[str, Any] | None = None, finish: str | None = None,
                 usage: tuple[int, int] | None = None) -> bytes:
    payload: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": []}
    if delta is not None or finish is not None:
        payload["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    if usage:
        payload["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1]}
    return sse(payload)


def openai_text(*pieces: str, usage: tuple[int, int] | None = (12, 5), done: bool = True) -> list[bytes | float]:
    chunks: list[bytes | float] = [openai_chunk({"role": "assistant", "content": ""})]
    chunks += [openai_chunk({"content": piece}) for piece in pieces]
    chunks.append(openai_chunk({}, finish="stop"))
    if usage:
        chunks.append(openai_chunk(usage=usage))
    return chunks + ([DONE] if done else [])


def openai_tool_calls(*calls: tuple[str, str, list[str]], text: str = "") -> list[bytes | float]:
    """Calls as (id, name, argument fragments); fragments of parallel calls are interleaved like OpenAI does."""
    chunks: list[bytes | float] = [openai_chunk({"role": "assistant", "content": text or None})]
    for index, (call_id, name, _) in enumerate(calls):
        chunks.append(openai_chunk({"tool_calls": [
            {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
    longest = max(len(fragments) for _, _, fragments in calls)
    for step in range(longest):
        for index, (_, _, fragments) in enumerate(calls):
            if step < len(fragments):
                fragment = {"index": index, "function": {"arguments": fragments[step]}}
                chunks.append(openai_chunk({"tool_calls": [fragment]}))
    return [*chunks, openai_chunk({}, finish="tool_calls"), DONE]


def anthropic_text(*pieces: str, stop: str = "end_turn", usage: tuple[int, int] = (12, 5)) -> list[bytes | float]:
    chunks: list[bytes | float] = [
        sse({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": usage[0],
                                                                            "output_tokens": 1}}}, "message_start"),
        sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start"),
        sse({"type": "ping"}, "ping"),
    ]
    chunks += [sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                   "content_block_delta") for piece in pieces]
    return chunks + anthropic_end(1, stop, usage[1])


def anthropic_end(blocks: int, stop: str, output_tokens: int) -> list[bytes | float]:
    return [
        *(sse({"type": "content_block_stop", "index": i}, "content_block_stop") for i in range(blocks)),
        sse({"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": output_tokens}},
            "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]


def anthropic_tool_use(*calls: tuple[str, str, list[str]], text: str = "") -> list[bytes | float]:
    chunks: list[bytes | float] = [
        sse({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 20, "output_tokens": 1}}},
            "message_start"),
    ]
    offset = 0
    if text:
        chunks += [
            sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start"),
            sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
                "content_block_delta"),
        ]
        offset = 1
    for position, (call_id, name, fragments) in enumerate(calls):
        index = position + offset
        chunks.append(sse({"type": "content_block_start", "index": index,
                           "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}}},
                          "content_block_start"))
        chunks += [sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": fragment}}, "content_block_delta")
                   for fragment in fragments]
    return chunks + anthropic_end(len(calls) + offset, "tool_use", 30)


def rechunk(chunks: list[bytes | float], size: int) -> list[bytes | float]:
    """The same bytes cut into `size`-byte TCP writes, so SSE lines are split at arbitrary places."""
    data = b"".join(chunk for chunk in chunks if isinstance(chunk, bytes))
    return [data[i:i + size] for i in range(0, len(data), size)]


def stream_reply(chunks: list[bytes | float], **kwargs: Any) -> Reply:
    return Reply(200, chunks, **kwargs)
