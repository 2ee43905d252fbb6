"""Engine test rig: the real engine, the real OpenAI provider and the scripted server, plus a small real
ToolRunner whose tools are async functions the test defines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from galaxy_chat.core.conversation import Conversation
from galaxy_chat.core.engine import ChatEngine
from galaxy_chat.core.session_log import SessionLogs
from galaxy_chat.core.tool_runner import NoTools, ToolRunner
from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.factory import create_provider
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.provider import Provider, create_http_client
from galaxy_chat.settings import Settings, load_settings
from galaxy_chat.testing.llm_server import ScriptedServer
from galaxy_chat.vocabulary.events import Event
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tests.provider_helpers import model_for
from tools.base import ToolResult

MODEL = "Test openai"  # the name model_for() gives the OpenAI model
PROXY_SECRET = "proxy-SECRET-456"
SETTINGS_KEY = "sk-settings-SECRET-789"

ToolFunction = Callable[..., Awaitable[str | ToolResult]]


class FunctionTools:
    """A real ToolRunner: each tool is an async function called with the model's JSON arguments."""

    def __init__(self, **functions: ToolFunction) -> None:
        self.functions = functions
        self.calls: list[ToolCall] = []

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec(name, f"The {name} tool.", {"type": "object"}) for name in self.functions]

    async def run(self, call: ToolCall, io: object = None) -> ToolResult:
        self.calls.append(call)
        function = self.functions.get(call.name)
        if function is None:
            return ToolResult(text=f"no tool {call.name}", is_error=True)
        result = await function(**json.loads(call.arguments or "{}"))
        return result if isinstance(result, ToolResult) else ToolResult(text=result)


@dataclass
class Rig:
    engine: ChatEngine
    server: ScriptedServer
    logs: SessionLogs
    settings: Settings
    model: ModelConfig
    conversations: list[Conversation] = field(default_factory=list)

    def conversation(self, user: str = "ada@example.com") -> Conversation:
        conversation = self.engine.new_conversation(user)
        self.conversations.append(conversation)
        return conversation

    async def collect(self, conversation: Conversation, text: str, model: str = MODEL, **kwargs: Any) -> list[Event]:
        return [event async for event in self.engine.respond(conversation, text, model, **kwargs)]

    def log_path(self, conversation: Conversation) -> Path:
        return self.settings.log_dir / f"{conversation.session_id}.jsonl"

    def log_lines(self, conversation: Conversation) -> list[dict[str, Any]]:
        assert self.logs.flush()
        return [json.loads(line) for line in self.log_path(conversation).read_text().splitlines()]

    def sent_messages(self, index: int = -1) -> list[dict[str, Any]]:
        return self.server.requests[index].json()["messages"]


def make_rig(server: ScriptedServer, client: httpx.AsyncClient, tmp_path: Path, tools: ToolRunner | None = None,
             model: dict[str, Any] | None = None, **settings: Any) -> Rig:
    prompt = tmp_path / "system_prompt.md"
    if not prompt.exists():
        prompt.write_text("You are the test assistant.\n")
    values = {"log_dir": tmp_path / "logs", "llm_api_key": SETTINGS_KEY, "trusted_proxy_secret": PROXY_SECRET}
    config = load_settings(env_file=None, **(values | settings))
    model_config = model_for(server, **(model or {}))

    def provider_for(name: str) -> Provider:
        if name != model_config.name:
            raise LLMError(FaultKind.UNAVAILABLE, f"unknown model {name!r}")
        return create_provider(model_config, client)

    logs = SessionLogs.from_settings(config, [model_config])
    engine = ChatEngine(config, provider_for, tools or NoTools(), logs.open, system_prompt_path=prompt)
    return Rig(engine, server, logs, config, model_config)


async def wait_for(condition: Callable[[], bool], timeout: float = 1.0) -> float:
    """Seconds until `condition()` holds; fails after `timeout`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        assert loop.time() - start < timeout, "condition not met in time"
        await asyncio.sleep(0.01)
    return loop.time() - start


async def take(events: AsyncIterator[Event], count: int) -> list[Event]:
    return [await anext(events) for _ in range(count)]


@asynccontextmanager
async def rig_factory(server: ScriptedServer, tmp_path: Path) -> AsyncIterator[Callable[..., Rig]]:
    """`make(tools=..., model={...}, **settings)` builds a Rig; every rig's log writer stops afterwards."""
    made: list[Rig] = []
    async with create_http_client() as client:

        def make(**kwargs: Any) -> Rig:
            made.append(make_rig(server, client, tmp_path, **kwargs))
            return made[-1]

        yield make
    for rig in made:
        rig.logs.close()
