"""Helpers for simulated-user page tests: a model on the scripted server, and waiting for the page."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from nicegui import ui
from nicegui.testing.user import User

from galaxy_chat.testing.llm_server import Reply, ScriptedServer, is_health_check, is_title_request
from galaxy_chat.testing.llm_wire import openai_text
from galaxy_chat.ui.streaming_markdown import StreamText


def model_file(tmp_path: Path, server: ScriptedServer, *extra: str) -> dict[str, str]:
    """Environment for the app with one OpenAI-compatible model on the scripted server.

    The app's start-up health check is answered by a standing rule, so scripted replies go to the chat.
    """
    server.when(is_health_check, Reply(200, openai_text("Hi")))
    # The background title request gets a refusal unless a test scripts a title: the first message stays the title.
    server.when(is_title_request, Reply.json({"error": {"message": "no titles here"}}, status=400))
    path = tmp_path / "llms.yml"
    entries = [f"- name: Scripted\n  provider: openai\n  base_url: {server.base_url}/v1\n  api_key: sk-page-test\n"
               "  model_name: scripted-1\n  context_window: 8000\n", *extra]
    path.write_text("models:\n" + "".join("  " + line + "\n" for entry in entries for line in entry.splitlines()))
    return {"LLM_CONFIG_FILE": str(path), "HEALTH_CHECK_INTERVAL_S": "3600", "STATUS_INTERVAL_S": "0.2"}


async def send(user: User, text: str) -> None:
    user.find(marker="chat-input").type(text)
    user.find(marker="send-button").click()
    await asyncio.sleep(0.1)  # the click's handler runs as a task of its own


def is_shown(user: User, marker: str) -> bool:
    try:
        return bool(user.find(marker=marker).elements)
    except AssertionError:  # the simulated user does not find hidden elements
        return False


async def wait_until_idle(user: User, timeout: float = 10.0) -> None:
    """Until the Send button is back (the reply has finished)."""
    await asyncio.sleep(0.05)
    for _ in range(int(timeout / 0.05)):
        if is_shown(user, "send-button"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reply did not finish")


def _markdown_elements(user: User) -> list[StreamText | ui.html]:
    """Replies (StreamText) and markdown widgets (ui.html), in page order."""
    elements: list[StreamText | ui.html] = []
    for kind in (StreamText, ui.html):
        with contextlib.suppress(AssertionError):  # none of this kind on the page
            elements += user.find(kind=kind).elements
    return sorted(elements, key=lambda element: element.id)


def shown_html(user: User) -> str:
    """All markdown rendered on the page."""
    return "".join(element.content for element in _markdown_elements(user))


def assistant_html(user: User) -> str:
    """All markdown rendered in assistant messages."""
    return "".join(
        element.content for element in _markdown_elements(user)
        if any("message-assistant" in getattr(a, "_markers", []) for a in element.ancestors())
    )
