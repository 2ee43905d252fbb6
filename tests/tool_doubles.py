"""Small real tools used to exercise the framework (defined here, outside `tools/`, so they are not shipped)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import BaseModel, Field

from access.policy import AllowAll
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import Markdown
from tools.base import Tool, ToolContext, ToolResult


class EchoParams(BaseModel):
    text: str = Field(description="What to echo back.")
    times: int = Field(1, ge=1, le=5, description="How many times.")


class EchoTool(Tool):
    name = "echo"
    description = "Echo the text back."
    Params = EchoParams
    command = "echo"
    command_help = "/echo <text>"

    async def run(self, args: EchoParams, context: ToolContext) -> ToolResult:
        text = " ".join([args.text] * args.times)
        return ToolResult(text=text, widgets=[Markdown(text=f"**{text}**")])


class SleepParams(BaseModel):
    seconds: float


class SleepyTool(Tool):
    name = "sleepy"
    description = "Sleeps."
    Params = SleepParams
    timeout_s = 0.3
    cancelled: ClassVar[list[float]] = []

    async def run(self, args: SleepParams, context: ToolContext) -> ToolResult:
        try:
            await asyncio.sleep(args.seconds)
        except asyncio.CancelledError:
            SleepyTool.cancelled.append(args.seconds)
            raise
        return ToolResult(text="rested")


class BrokenParams(BaseModel):
    pass


class BrokenTool(Tool):
    name = "broken"
    description = "Always raises."
    Params = BrokenParams

    async def run(self, args: BrokenParams, context: ToolContext) -> ToolResult:
        raise ValueError("the widget flux capacitor is empty")


def make_context(settings: Settings, email: str = "alice@example.com") -> ToolContext:
    return ToolContext(user=User(email), session_id="session-1", settings=settings, policy=AllowAll())
