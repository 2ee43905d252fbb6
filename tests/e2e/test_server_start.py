"""The real server process starts with the shipped llms.yml and no keys, and says why each model is unusable."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from galaxy_chat.llm.errors import SENTENCES, FaultKind
from galaxy_chat.testing.app_process import ROOT, free_port
from galaxy_chat.testing.llm_server import sse

ALICE = {"X-EMAIL-USER": "alice@example.com"}
SECRET = "sk-very-secret-42"
HI_STREAM = [
    sse({"choices": [{"delta": {"content": "Hi"}, "index": 0}]}),
    sse({"choices": [{"delta": {}, "finish_reason": "stop", "index": 0}]}),
    b"data: [DONE]\n\n",
]


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
