"""Model health checks against a real scripted HTTP server, directly and through the app's `/ready`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from unittest.mock import ANY

import httpx

from galaxy_chat.llm.errors import SENTENCES, FaultKind
from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.app_process import ROOT, free_port
from galaxy_chat.testing.llm_server import Reply, sse

ALICE = {"X-EMAIL-USER": "alice@example.com"}
SECRET = "sk-very-secret-42"
HI_STREAM = [
    sse({"choices": [{"delta": {"content": "Hi"}, "index": 0}]}),
    sse({"choices": [{"delta": {}, "finish_reason": "stop", "index": 0}]}),
    b"data: [DONE]\n\n",
]


def model_file(tmp_path: Path, base_url: str, *names: str, extra: str = "") -> Path:
    path = tmp_path / "llms.yml"
    path.write_text("models:\n" + "".join(
        f"  - {{name: {name}, provider: openai, base_url: '{base_url}/{name}', api_key: '${{TEST_KEY}}',"
        f" model_name: m-{name}, headers: {{X-Gateway: '${{TEST_KEY}}'}}}}\n"
        for name in names
    ) + extra)
    return path


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
    report = await checked(monitor_for(model_file(tmp_path, llm_server.base_url, "a")))
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
    report = await checked(monitor_for(model_file(tmp_path, llm_server.base_url, "a")))
    status = report["models"]["a"]
    assert status["status"] == "error" and status["error"] == SENTENCES[FaultKind.AUTH]
    assert SECRET not in str(report) and llm_server.base_url not in str(report)


async def test_hung_models_time_out_concurrently(tmp_path: Path, llm_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", SECRET)
    for name in ("a", "b", "c"):
        llm_server.route("POST", f"/{name}/chat/completions", Reply(chunks=[30.0]))
    llm_server.route("POST", "/d/chat/completions", Reply(chunks=HI_STREAM))
    monitor = monitor_for(model_file(tmp_path, llm_server.base_url, "a", "b", "c", "d"), health_check_timeout_s=1)
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
    path = model_file(tmp_path, llm_server.base_url, "a")
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
    monitor = monitor_for(model_file(tmp_path, llm_server.base_url, "a"))
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
    monitor = monitor_for(model_file(tmp_path, llm_server.base_url, "a"))
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


async def wait_for_check(user, name: str) -> dict:
    for _ in range(100):
        ready = (await user.http_client.get("/ready", headers=ALICE)).json()
        if ready["checks"]["models"]["models"].get(name, {}).get("status") not in (None, "unchecked"):
            return ready
        await asyncio.sleep(0.05)
    raise AssertionError(f"model {name} was never checked: {ready}")


async def test_ready_shows_statuses_without_secrets(tmp_path: Path, llm_server, simulated_app) -> None:
    llm_server.route("POST", "/a/chat/completions", Reply(chunks=HI_STREAM))
    llm_server.route("POST", "/b/chat/completions", Reply.json({"error": {"message": SECRET}}, 401))
    path = model_file(tmp_path, llm_server.base_url, "a", "b", extra=(
        "  - {name: c, provider: anthropic, base_url: 'https://x.invalid', api_key: '${NO_SUCH_KEY}',"
        " model_name: claude}\n"
    ))
    async with simulated_app(LLM_CONFIG_FILE=str(path), TEST_KEY=SECRET) as user:
        ready = await wait_for_check(user, "a")
        assert ready["status"] == "ready" and ready["checks"]["models"]["ok"] is True
        models = ready["checks"]["models"]["models"]
        assert [models[name]["status"] for name in ("a", "b", "c")] == ["ok", "error", "unavailable"]
        assert models["b"]["error"] == SENTENCES[FaultKind.AUTH]
        assert models["c"]["error"] == "environment variable NO_SUCH_KEY is not set"
        text = (await user.http_client.get("/ready", headers=ALICE)).text
        assert SECRET not in text and "X-Gateway" not in text and llm_server.base_url not in text

        llm_server.route("POST", "/b/chat/completions", Reply(chunks=HI_STREAM))
        assert (await user.http_client.post("/ready/models/check")).status_code == 401  # behind identity
        fresh = await user.http_client.post("/ready/models/check", headers=ALICE)
        assert fresh.status_code == 200 and fresh.json()["models"]["b"]["status"] == "ok"
        assert SECRET not in fresh.text


async def test_app_offers_ollama_models_when_nothing_is_configured(tmp_path: Path, llm_server, simulated_app) -> None:
    llm_server.route("GET", "/api/tags", Reply.json({"models": [{"name": "llama3.2:latest"}]}))
    async with simulated_app(LLM_CONFIG_FILE=str(tmp_path / "absent.yml"), OLLAMA_BASE_URL=llm_server.base_url) as user:
        ready = await wait_for_check(user, "llama3.2:latest")
        check = ready["checks"]["models"]
        assert check["default"] == "llama3.2:latest" and check["ollama"]["status"] == "ok"
        assert check["models"]["llama3.2:latest"]["status"] == "ok"


async def test_app_starts_without_any_model(tmp_path: Path, simulated_app) -> None:
    async with simulated_app(
        LLM_CONFIG_FILE=str(tmp_path / "absent.yml"), OLLAMA_BASE_URL=f"http://127.0.0.1:{free_port()}"
    ) as user:
        assert (await user.http_client.get("/", headers=ALICE)).status_code == 200
        for _ in range(100):
            check = (await user.http_client.get("/ready", headers=ALICE)).json()["checks"]["models"]
            if check["ollama"]["status"] != "unchecked":
                break
            await asyncio.sleep(0.05)
        assert check["ollama"]["checked_at"] is not None
        assert check == {
            "ok": True, "default": None, "models": {},
            "ollama": {"status": "error", "error": SENTENCES[FaultKind.CONNECT], "checked_at": ANY},
        }


def test_real_server_starts_with_the_seed_file_and_no_keys(tmp_path: Path, app_process) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "llms.yml").write_text((ROOT / "config" / "llms.yml").read_text())
    app = app_process(  # empty counts as unset, whatever the developer's shell holds
        OLLAMA_BASE_URL=f"http://127.0.0.1:{free_port()}", HEALTH_CHECK_TIMEOUT_S="2", ANTHROPIC_API_KEY="",
        OPENAI_API_KEY="", OLLAMA_MODEL="",
    )
    for _ in range(50):
        check = httpx.get(f"{app.url}/ready", headers=ALICE, timeout=5).json()["checks"]["models"]
        if check["models"]["Local Ollama"]["status"] != "unchecked":
            break
        time.sleep(0.1)
    assert [(name, status["status"]) for name, status in check["models"].items()] == [
        ("Anthropic Claude", "unavailable"), ("OpenAI GPT-3.5", "unavailable"), ("OpenAI GPT-4", "unavailable"),
        ("Local Ollama", "error"),
    ]
    assert check["models"]["OpenAI GPT-4"]["error"] == "environment variable OPENAI_API_KEY is not set"
    assert check["models"]["Local Ollama"]["error"] == SENTENCES[FaultKind.CONNECT]
    assert check["default"] == "Local Ollama"
