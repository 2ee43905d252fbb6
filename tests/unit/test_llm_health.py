"""Model health checks against a real scripted HTTP server, directly and through the app's `/ready`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from galaxy_chat.llm.errors import SENTENCES, FaultKind
from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.llm_server import Reply
from tests.provider_helpers import HI_STREAM, health_model_file

ALICE = {"X-EMAIL-USER": "alice@example.com"}
SECRET = "sk-very-secret-42"
def monitor_for(path: Path, **settings: object) -> HealthMonitor:
    loaded = load_settings(env_file=None, llm_config_file=path, **settings)
    return HealthMonitor(ModelRegistry.from_settings(loaded), loaded)


async def checked(monitor: HealthMonitor) -> dict:
    try:
        return await monitor.check_now()
    finally:
        await monitor.stop()
        await monitor.registry.aclose()


async def test_a_working_model_is_ok(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    llm_server.route("POST", "/a/chat/completions", Reply(chunks=HI_STREAM))
    report = await checked(monitor_for(health_model_file(tmp_path, llm_server.base_url, "a")))
    status = report["models"]["a"]
    assert (status["status"], status["error"], status["provider"], status["model"]) == ("ok", "", "openai", "m-a")
    assert isinstance(status["latency_ms"], int) and status["checked_at"].endswith("+00:00")
    (request,) = llm_server.requests
    body = request.json()
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["max_tokens"] == 3
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(report) and report["default"] == "a"


async def test_rejected_key_is_an_error_with_the_auth_sentence(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    llm_server.route("POST", "/a/chat/completions", Reply.json({"error": {"message": f"bad key {SECRET}"}}, 401))
    report = await checked(monitor_for(health_model_file(tmp_path, llm_server.base_url, "a")))
    status = report["models"]["a"]
    assert status["status"] == "error" and status["error"] == SENTENCES[FaultKind.AUTH]
    assert SECRET not in str(report) and llm_server.base_url not in str(report)


async def test_hung_models_time_out_concurrently(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    for name in ("a", "b", "c"):
        llm_server.route("POST", f"/{name}/chat/completions", Reply(chunks=[30.0]))
    llm_server.route("POST", "/d/chat/completions", Reply(chunks=HI_STREAM))
    path = health_model_file(tmp_path, llm_server.base_url, "a", "b", "c", "d")
    monitor = monitor_for(path, health_check_timeout_s=1)
    began = time.monotonic()
    report = await checked(monitor)
    assert time.monotonic() - began < 2.5  # all at once: not 3 x 1 s
    for name in ("a", "b", "c"):
        assert report["models"][name]["status"] == "error"
        assert report["models"][name]["error"] == (
            "The model took too long to answer (no reply to the health check within 1 s)."
        )
    assert report["models"]["d"]["status"] == "ok"


async def test_unavailable_and_disabled_models_are_never_called(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.delenv("TEST_KEY", raising=False)
    path = health_model_file(tmp_path, llm_server.base_url, "a")
    report = await checked(monitor_for(path))
    assert report["models"]["a"]["status"] == "unavailable"
    assert report["models"]["a"]["error"] == "environment variable TEST_KEY is not set"
    monkeypatch.setenv("TEST_KEY", SECRET)
    report = await checked(monitor_for(path, disable_llm_calls=True))
    assert report["models"]["a"]["status"] == "unchecked"
    assert report["models"]["a"]["error"].startswith("LLM calls are disabled")
    assert llm_server.requests == []


async def test_check_now_sees_a_model_recover(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    llm_server.route("POST", "/a/chat/completions", Reply.json({"error": {"message": "down"}}, 404))
    monitor = monitor_for(health_model_file(tmp_path, llm_server.base_url, "a"))
    try:
        assert monitor.statuses()["a"]["status"] == "unchecked"
        first = await monitor.check_now()
        assert first["models"]["a"]["error"] == SENTENCES[FaultKind.NOT_FOUND]
        llm_server.route("POST", "/a/chat/completions", Reply(chunks=HI_STREAM))
        both = await asyncio.gather(monitor.check_now(), monitor.check_now())  # concurrent callers share one check
        assert both[0]["models"]["a"]["status"] == both[1]["models"]["a"]["status"] == "ok"
        assert len(llm_server.requests) == 2
    finally:
        await monitor.stop()
        await monitor.registry.aclose()


async def test_start_checks_in_the_background_and_stop_ends_it(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    llm_server.route("POST", "/a/chat/completions", Reply(chunks=[0.3, *HI_STREAM]))
    monitor = monitor_for(health_model_file(tmp_path, llm_server.base_url, "a"))
    began = time.monotonic()
    monitor.start()
    assert time.monotonic() - began < 0.1 and monitor.statuses()["a"]["status"] == "unchecked"
    for _ in range(50):
        await asyncio.sleep(0.05)
        if monitor.statuses()["a"]["status"] != "unchecked":
            break
    assert monitor.statuses()["a"]["status"] == "ok"
    await monitor.stop()
    await monitor.registry.aclose()
    assert len(llm_server.requests) == 1
