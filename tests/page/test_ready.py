"""`/ready` of the real app in NiceGUI's simulation: model statuses, Ollama discovery, no model at all."""

from __future__ import annotations

import asyncio
from pathlib import Path
from unittest.mock import ANY

from galaxy_chat.llm.errors import SENTENCES, FaultKind
from galaxy_chat.testing.app_process import free_port
from galaxy_chat.testing.llm_server import Reply
from tests.provider_helpers import HI_STREAM, health_model_file

ALICE = {"X-EMAIL-USER": "alice@example.com"}
SECRET = "sk-very-secret-42"
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
    path = health_model_file(tmp_path, llm_server.base_url, "a", "b", extra=(
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
