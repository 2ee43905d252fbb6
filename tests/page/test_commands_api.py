"""POST /api/commands: a direct command over HTTP, through the real app in NiceGUI's simulation."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from nicegui import app

from galaxy_chat.settings import Settings
from galaxy_chat.web.commands_api import PATH

MAX_TEXT = Settings.model_fields["max_message_chars"].default

ALICE = {"X-EMAIL-USER": "alice@example.com"}


async def written_log(path: Path, timeout: float = 5.0) -> list[dict]:
    """The session log's lines once its last line is on disk (one writer thread writes them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if lines and lines[-1]["type"] == "session_end":
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was not completed within {timeout} s")


async def test_calc_runs_through_the_calculator(simulated_app, clean_env) -> None:
    async with simulated_app() as user:
        response = await user.http_client.post(PATH, json={"text": "/calc 2*(3+4)"}, headers=ALICE)
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True and body["is_error"] is False
        assert body["tool"] == "calculator"
        assert body["text"] == "2*(3+4) = 14"
        assert body["widgets"] == [{"kind": "markdown", "text": "`2*(3+4)` = **14**"}]
        assert [event["type"] for event in body["events"]] == ["tool_call_started", "tool_call_finished", "done"]
        session_id = body["session_id"]
    lines = await written_log(clean_env / "logs" / f"{session_id}.jsonl")
    assert [line["type"] for line in lines] == [
        "session_start", "session_settings", "command", "tool_call_started", "tool_call_finished", "done",
        "session_end"]
    assert lines[0]["user"] == "alice@example.com" and lines[0]["origin"] == "api"
    assert lines[2]["text"] == "/calc 2*(3+4)"


async def test_a_tool_error_is_a_result_not_a_failure(simulated_app) -> None:
    async with simulated_app() as user:
        response = await user.http_client.post(PATH, json={"text": "/calc 1/0"}, headers=ALICE)
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is False and body["is_error"] is True and body["tool"] == "calculator"
        assert body["text"]


async def test_help_and_unknown_commands(simulated_app) -> None:
    async with simulated_app() as user:
        help_body = (await user.http_client.post(PATH, json={"text": "/help"}, headers=ALICE)).json()
        assert help_body["ok"] is True and help_body["tool"] is None and "/calc" in help_body["text"]
        unknown = (await user.http_client.post(PATH, json={"text": "/frobnicate"}, headers=ALICE)).json()
        assert unknown["ok"] is False and unknown["kind"] == "unknown_command"
        assert unknown["text"].startswith("Unknown command /frobnicate.")
        assert all("detail" not in event for event in unknown["events"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object with a 'text' field"),
        (b'{"command": "/calc 1"}', "JSON object with a 'text' field"),
        (b'{"text": 42}', "'text' must be a string"),
        (b'{"text": "calc 1+1"}', "must be a command starting with '/'"),
        (b'{"text": "/"}', "must be a command starting with '/'"),
        (json.dumps({"text": "/calc " + "1" * MAX_TEXT}).encode(), "too long"),
    ],
)
async def test_bad_input_is_400_with_a_reason(simulated_app, content: bytes, expected: str) -> None:
    async with simulated_app() as user:
        response = await user.http_client.post(
            PATH, content=content, headers={**ALICE, "Content-Type": "application/json"})
        assert response.status_code == 400
        assert expected in response.json()["detail"]


async def test_identity_is_required(simulated_app) -> None:
    async with simulated_app(TRUSTED_PROXY_SECRET="s3cret-value") as user:
        anonymous = await user.http_client.post(PATH, json={"text": "/calc 1+1"})
        no_secret = await user.http_client.post(PATH, json={"text": "/calc 1+1"}, headers=ALICE)
        proxied = await user.http_client.post(
            PATH, json={"text": "/calc 1+1"}, headers={**ALICE, "X-Proxy-Secret": "s3cret-value"})
        assert (anonymous.status_code, no_secret.status_code, proxied.status_code) == (401, 401, 200)
        assert proxied.json()["text"] == "1+1 = 2"


async def test_permissions_come_from_the_policy(simulated_app) -> None:
    async with simulated_app() as user:
        app.state.services.policy = DenyCalculator()
        response = await user.http_client.post(PATH, json={"text": "/calc 1+1"}, headers=ALICE)
        body = response.json()
        assert body["ok"] is False and body["kind"] == "command_not_enabled"
        assert body["text"].startswith("`/calc` is not enabled for you")


class DenyCalculator:
    """Everything except the calculator."""

    def tools_for(self, user, available):
        return [name for name in available if name != "calculator"]

    def data_sources_for(self, user, available):
        return list(available)

    def models_for(self, user, available):
        return list(available)

    def can_use(self, user, kind, name):
        return not (kind == "tool" and name == "calculator")


async def test_the_rate_limit_of_the_page_holds_for_commands_too(simulated_app, clean_env) -> None:
    async with simulated_app(MESSAGES_PER_MINUTE="20") as user:
        answers = [await user.http_client.post(PATH, json={"text": f"/calc {n}+1"}, headers=ALICE)
                   for n in range(21)]
        assert [a.status_code for a in answers[:20]] == [200] * 20
        assert answers[20].status_code == 429
        assert "20 messages in the last minute" in answers[20].json()["detail"]
        app.state.services.logs.flush()
    commands = [json.loads(line) for path in (clean_env / "logs").glob("*.jsonl")
                for line in path.read_text().splitlines() if json.loads(line)["type"] == "command"]
    assert sorted(c["text"] for c in commands) == sorted(f"/calc {n}+1" for n in range(20))  # the 21st never ran


async def test_one_run_at_a_time_per_person_across_page_and_api(simulated_app) -> None:
    async with simulated_app(TOOL_TIMEOUT_S="5") as user:
        slow = asyncio.create_task(user.http_client.post(
            PATH, json={"text": "/python import time; time.sleep(1.5)"}, headers=ALICE))
        await asyncio.sleep(0.5)
        second = await user.http_client.post(PATH, json={"text": "/calc 1+1"}, headers=ALICE)
        other = await user.http_client.post(PATH, json={"text": "/calc 1+1"},
                                            headers={"X-EMAIL-USER": "bob@example.com"})
        assert second.status_code == 409 and "still running" in second.json()["detail"]
        assert other.status_code == 200  # another person is not held up
        assert (await slow).status_code == 200
        assert (await user.http_client.post(PATH, json={"text": "/calc 1+1"}, headers=ALICE)).status_code == 200
