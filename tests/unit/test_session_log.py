"""Session logs: one whole JSON line per event, written as it happens, private, and never holding a secret."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import BaseModel

from galaxy_chat.core import session_log
from galaxy_chat.core.session_log import REDACTED, SessionLogs, secrets_of
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Error, TextDelta, ToolCallFinished
from tests.engine_helpers import PROXY_SECRET, SETTINGS_KEY, FunctionTools, rig_factory, wait_for
from tests.provider_helpers import SECRET_KEY

SESSION = "abcdefgh12345678"


class Plot(BaseModel):
    title: str
    points: list[tuple[float, float]]


@pytest.fixture
def logs(tmp_path: Path):
    writer = SessionLogs(tmp_path / "logs", ["s3cr3t-value", 'quote"and-ü-secret'])
    yield writer
    writer.close()


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_line_is_one_json_object_with_utc_time_and_type(logs: SessionLogs) -> None:
    log = logs.open(SESSION)
    log.write("user", text="multi\nline\u2028text")
    log.event(Error("Boom.", "detail", "server"), traceback="Traceback ...")
    assert logs.flush()
    raw = log.path.read_text()
    assert raw.count("\n") == 2 and raw.endswith("\n")
    lines = read(log.path)
    assert [x["type"] for x in lines] == ["user", "error"]
    assert lines[0]["text"] == "multi\nline\u2028text"
    assert lines[1] == {"ts": lines[1]["ts"], "type": "error", "message": "Boom.", "detail": "detail",
                        "kind": "server", "traceback": "Traceback ..."}
    stamp = datetime.fromisoformat(lines[0]["ts"].replace("Z", "+00:00"))
    assert lines[0]["ts"].endswith("Z") and stamp.utcoffset().total_seconds() == 0
    assert abs(stamp.timestamp() - time.time()) < 5


def test_files_are_private(logs: SessionLogs) -> None:
    log = logs.open(SESSION)
    log.write("session_start")
    assert logs.flush()
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_secrets_are_redacted_everywhere_even_json_escaped(logs: SessionLogs) -> None:
    log = logs.open(SESSION)
    log.event(ToolCallFinished("c1", "env", "KEY=s3cr3t-value", False, 0.1))
    log.event(Error("Rejected.", 'sent quote"and-ü-secret to the server', "auth"), traceback="x s3cr3t-value y")
    assert logs.flush()
    raw = log.path.read_text()
    assert "s3cr3t" not in raw and "and-\\u00fc-secret" not in raw and "and-ü-secret" not in raw
    lines = read(log.path)
    assert lines[0]["text"] == f"KEY={REDACTED}"
    assert lines[1]["detail"] == f"sent {REDACTED} to the server"
    assert lines[1]["traceback"] == f"x {REDACTED} y"


def test_the_history_databases_password_is_a_secret_of_the_logs(tmp_path: Path) -> None:
    settings = load_settings(None, database_url="postgresql://chat:pa%3Fss-w0rd@db.internal:5432/history")
    writer = SessionLogs(tmp_path, secrets_of(settings))
    writer.open(SESSION).write("error", detail="could not reach postgresql://chat:pa?ss-w0rd@db.internal")
    writer.close()
    raw = (tmp_path / f"{SESSION}.jsonl").read_text()
    assert "pa?ss-w0rd" not in raw and "pa%3Fss-w0rd" not in raw and REDACTED in raw


def test_a_secret_split_across_streamed_deltas_is_still_redacted(logs, monkeypatch) -> None:
    monkeypatch.setattr(session_log, "TEXT_FLUSH_S", 0.0)  # flush after every delta: the worst case
    log = logs.open(SESSION)
    for piece in ["The key is s3c", "r3t-va", "lue, keep it safe.", " Again: s3cr3t-value"]:
        log.event(TextDelta(piece))
    log.write("done")
    assert logs.flush()
    lines = read(log.path)
    assert len([x for x in lines if x["type"] == "text"]) >= 2
    text = "".join(x["text"] for x in lines if x["type"] == "text")
    assert text == f"The key is {REDACTED}, keep it safe. Again: {REDACTED}"


def test_widgets_are_logged_as_json_when_they_can_be(logs: SessionLogs) -> None:
    log = logs.open(SESSION)
    widgets = [Plot(title="t", points=[(1, 2)]), object()]
    log.event(ToolCallFinished("c1", "plot", "ok", False, 0.5, widgets, True))
    assert logs.flush()
    (line,) = read(log.path)
    assert line["widgets"][0] == {"title": "t", "points": [[1.0, 2.0]]}
    assert line["widgets"][1].startswith("<object object at")
    assert (line["duration_s"], line["reduced_isolation"]) == (0.5, True)


def test_session_ids_cannot_name_other_files(logs: SessionLogs) -> None:
    for bad in ["../../etc/passwd", "short", "a/b/cdefghijk", ""]:
        with pytest.raises(ValueError):
            logs.open(bad)


def test_kill_9_loses_at_most_the_line_being_written(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from galaxy_chat.core.session_log import SessionLogs\n"
        "log = SessionLogs(Path(sys.argv[1])).open('abcdefgh12345678')\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    log.write('tick', i=i, pad='x' * 5000); i += 1\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    path = tmp_path / "abcdefgh12345678.jsonl"
    deadline = time.monotonic() + 10
    while not (path.exists() and path.stat().st_size > 200_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    lines = path.read_bytes().split(b"\n")
    # Every finished line is whole; at most the one being written when the process died is cut short
    # (Linux may stop a write between pages on SIGKILL), and it is the last one.
    numbers = [json.loads(line)["i"] for line in lines[:-1]]
    assert numbers == list(range(len(numbers))) and len(numbers) > 10


async def test_lines_reach_the_disk_while_the_session_is_running(llm_server, tmp_path) -> None:
    release = asyncio.Event()

    async def leak(**_: object) -> str:
        await release.wait()
        return f"env: LLM_API_KEY={SETTINGS_KEY} PROXY={PROXY_SECRET} MODEL={SECRET_KEY}"

    async with rig_factory(llm_server, tmp_path) as make:
        rig = make(tools=FunctionTools(leak=leak))
        rig.server.script(Reply(200, openai_tool_calls(("c1", "leak", ["{}"]))),
                          Reply(200, openai_text(f"The key is {SECRET_KEY}.")),
                          Reply.json({"error": f"invalid key {SECRET_KEY}"}, status=400))
        chat = rig.conversation()
        path = rig.log_path(chat)
        events = rig.engine.respond(chat, "Show the environment", "Test openai")
        await anext(events)  # ToolCallStarted, while the tool is still running

        def logged(kind: str) -> bool:
            return path.exists() and f'"type": "{kind}"' in path.read_text()

        await wait_for(lambda: logged("tool_call_started"))
        assert logged("user") and not logged("done")
        release.set()
        rest = [event async for event in events]
        await rig.collect(chat, "Again")  # the 400 answer echoes the key in its detail
        rig.engine.end_conversation(chat)
        assert any(isinstance(e, TextDelta) for e in rest)
        lines = rig.log_lines(chat)
    raw = path.read_text()
    for secret in (SECRET_KEY, SETTINGS_KEY, PROXY_SECRET):
        assert secret not in raw
    finished = next(x for x in lines if x["type"] == "tool_call_finished")
    assert finished["text"] == f"env: LLM_API_KEY={REDACTED} PROXY={REDACTED} MODEL={REDACTED}"
    reply = [x for x in lines if x["type"] == "model_reply"][1]
    assert reply["text"] == f"The key is {REDACTED}."  # the whole reply, redacted like the rest
    error = next(x for x in lines if x["type"] == "error")
    assert REDACTED in error["detail"] and error["traceback"]
    assert lines[-1]["type"] == "session_end"
