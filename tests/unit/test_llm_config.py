"""config/llms.yml: expansion, missing variables, one-line errors, LLM_* fallback, Ollama discovery."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from galaxy_chat.llm.llms_file import ModelConfigError, load_models, parse_models
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.app_process import ROOT, free_port
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.yaml_config import expand
from tests.unit.test_settings import run_cli

ENTRY = """
  - name: {name}
    provider: openai
    base_url: https://api.example.com/v1
    api_key: sk-test
    model_name: m-{name}
"""


def parse(text: str, **variables: str):
    return parse_models(text, "config/llms.yml", variables)


def settings_with(tmp_path: Path, text: str | None = None, **env: str):
    path = tmp_path / "llms.yml"
    if text is not None:
        path.write_text(text)
    return load_settings(env_file=None, llm_config_file=path, **env)


def test_expand_variables_and_defaults() -> None:
    variables = {"HOST": "llm.internal", "EMPTY": ""}
    assert expand("https://${HOST}/v1", variables) == ("https://llm.internal/v1", [])
    assert expand("${PORT:-8000} ${HOST:-x}", variables) == ("8000 llm.internal", [])
    assert expand("${EMPTY:-fallback}", variables) == ("fallback", [])
    assert expand("${A}${B}-$HOST", variables) == ("-$HOST", ["A", "B"])
    assert expand("${EMPTY}", variables) == ("", ["EMPTY"])  # an empty key is as good as none


def test_every_string_value_is_expanded_including_headers() -> None:
    loaded = parse(
        """
models:
  - name: ${TEAM:-Team} model
    provider: ${KIND:-openai}
    base_url: http://${LLM_HOST}:${LLM_PORT:-8000}/v1
    api_key: ${KEY}
    model_name: ${MODEL:-qwen}
    max_tokens: ${MAX:-512}
    headers: {X-Team: "${TEAM:-none}", X-Gateway-Key: "${GATEWAY_KEY}"}
""",
        LLM_HOST="gpu1", KEY="sk-abc", GATEWAY_KEY="gw-1", TEAM="Blue",
    )
    (config,) = loaded.models
    assert (config.name, config.provider, config.base_url) == ("Blue model", "openai", "http://gpu1:8000/v1")
    assert (config.model_name, config.max_tokens, config.api_key.get_secret_value()) == ("qwen", 512, "sk-abc")
    assert config.headers == {"X-Team": "Blue", "X-Gateway-Key": "gw-1"}
    assert config.available and loaded.source == "file"


def test_missing_variable_lists_the_model_as_unavailable() -> None:
    loaded = parse(
        "models:\n" + ENTRY.format(name="a").replace("sk-test", "${ANTHROPIC_API_KEY}")
        + ENTRY.format(name="b").replace("sk-test", "${K1}").replace("https://api.example.com/v1", "${URL}")
        + "    max_tokens: ${MAX_TOKENS}\n"
    )
    first, second = loaded.models
    assert first.unavailable_reason == "environment variable ANTHROPIC_API_KEY is not set"
    assert second.unavailable_reason == "environment variables URL, K1 and MAX_TOKENS are not set"
    assert first.api_key.get_secret_value() == second.api_key.get_secret_value() == ""
    assert second.base_url == "${URL}" and second.max_tokens is None
    registry = ModelRegistry(loaded.models)
    assert registry.names == ["a", "b"] and registry.available() == []
    assert registry.unavailable() == {"a": first.unavailable_reason, "b": second.unavailable_reason}
    assert registry.default_name is None


BAD_FILES = [
    ("models: [name: x\n",
     "config/llms.yml: invalid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'"),
    ("models:\n" + ENTRY.format(name="a") + ENTRY.format(name="b") + ENTRY.format(name="OpenAI GPT-4").replace(
        "    model_name: m-OpenAI GPT-4\n", ""),
     "config/llms.yml: models[2] (OpenAI GPT-4): field 'model_name' is required"),
    ("models:\n" + ENTRY.format(name="a").replace("openai", "mistral"),
     "config/llms.yml: models[0] (a): field 'provider': unknown provider 'mistral' "
     "(expected openai, anthropic, ollama)"),
    ("models:\n" + ENTRY.format(name="a") + "    temperature: 3\n",
     "config/llms.yml: models[0] (a): field 'temperature': Input should be less than or equal to 2 (got 3)"),
    ("models:\n" + ENTRY.format(name="a") + "    context_window: lots\n",
     "config/llms.yml: models[0] (a): field 'context_window': Input should be a valid integer, unable to parse "
     "string as an integer (got 'lots')"),
    ("models:\n" + ENTRY.format(name="a") + "    modle_name: typo\n",
     "config/llms.yml: models[0] (a): unknown field 'modle_name' (allowed: name, provider, base_url, api_key, "
     "model_name, max_tokens, temperature, context_window, timeout_s, headers, vision)"),
    ("models:\n" + ENTRY.format(name="a").replace("https://api.example.com/v1", "api.example.com"),
     "config/llms.yml: models[0] (a): field 'base_url': must be an http:// or https:// URL with a host "
     "(got 'api.example.com')"),
    ("models:\n" + ENTRY.format(name="a") + ENTRY.format(name="b") + ENTRY.format(name="a"),
     "config/llms.yml: models[2] (a): field 'name' repeats models[0]"),
    ("models:\n  - just a name\n", "config/llms.yml: models[0]: expected a mapping of fields, got str"),
    ("models:\n  - provider: openai\n", "config/llms.yml: models[0]: field 'name' is required"),
    ("just text", "config/llms.yml: expected a list or a mapping with 'models:'"),
    ("modles: []\n", "config/llms.yml: unknown top-level key 'modles' (expected 'models' and 'default')"),
    ("default: c\nmodels:\n" + ENTRY.format(name="a"), "config/llms.yml: default: no model is named 'c'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_file_is_one_line_naming_file_entry_and_field(text: str, message: str) -> None:
    with pytest.raises(ModelConfigError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_secret_values_are_not_echoed_in_errors() -> None:
    text = "models:\n" + ENTRY.format(name="a").replace("sk-test", "[sk-secret-1]")
    with pytest.raises(ModelConfigError) as caught:
        parse(text)
    assert "field 'api_key'" in str(caught.value) and "sk-secret-1" not in str(caught.value)


def test_bare_list_and_default_are_accepted() -> None:
    bare = parse(ENTRY.format(name="a") + ENTRY.format(name="b"))
    assert [config.name for config in bare.models] == ["a", "b"] and bare.default is None
    chosen = parse("default: ${PICK:-b}\nmodels:\n" + ENTRY.format(name="a") + ENTRY.format(name="b"))
    assert ModelRegistry(chosen.models, chosen.default).default_name == "b"
    assert ModelRegistry(bare.models, bare.default).default_name == "a"


def test_bad_file_stops_the_real_cli_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "llms.yml").write_text(
        "models:\n" + ENTRY.format(name="a") + ENTRY.format(name="b")
        + ENTRY.format(name="OpenAI GPT-4").replace("    model_name: m-OpenAI GPT-4\n", "")
    )
    began = time.monotonic()
    result = run_cli(tmp_path)
    assert result.returncode != 0 and time.monotonic() - began < 20
    assert result.stderr.strip().splitlines() == [
        "galaxy-chat: config/llms.yml: models[2] (OpenAI GPT-4): field 'model_name' is required"
    ]


def test_invalid_yaml_through_the_real_cli(tmp_path: Path) -> None:
    (tmp_path / "models.yml").write_text("models:\n  - name: a\n   provider: openai\n")
    result = run_cli(tmp_path, LLM_CONFIG_FILE="models.yml")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("galaxy-chat: models.yml: invalid YAML at line 3")


@pytest.mark.parametrize("text", [None, "", "models: []\n", "# nothing yet\nmodels:\n"])
def test_llm_settings_define_one_model_when_the_file_lists_none(tmp_path: Path, text: str | None) -> None:
    settings = settings_with(
        tmp_path, text, llm_base_url="http://vllm.internal:8000/v1/", llm_api_key="sk-x", llm_model_name="qwen2.5"
    )
    loaded = load_models(settings, {})
    (config,) = loaded.models
    assert (config.name, config.provider, config.model_name) == ("qwen2.5", "openai", "qwen2.5")
    assert config.base_url == "http://vllm.internal:8000/v1" and config.api_key.get_secret_value() == "sk-x"
    registry = ModelRegistry.from_settings(settings, loaded)
    assert registry.default_name == "qwen2.5" and not registry.discovering


def test_llm_base_url_without_model_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError, match="LLM_MODEL_NAME: must be set when LLM_BASE_URL is set"):
        load_models(settings_with(tmp_path, llm_base_url="http://vllm.internal:8000/v1"), {})


def test_the_file_wins_over_llm_settings(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, ENTRY.format(name="a"), llm_base_url="http://x:1", llm_model_name="q")
    assert [config.name for config in load_models(settings, {}).models] == ["a"]


def test_seed_file_without_any_variable(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, llm_config_file=ROOT / "config" / "llms.yml")
    registry = ModelRegistry.from_settings(settings, load_models(settings, {}))
    assert registry.names == ["Anthropic Claude", "OpenAI GPT-3.5", "OpenAI GPT-4", "Local Ollama"]
    assert registry.unavailable() == {
        "Anthropic Claude": "environment variable ANTHROPIC_API_KEY is not set",
        "OpenAI GPT-3.5": "environment variable OPENAI_API_KEY is not set",
        "OpenAI GPT-4": "environment variable OPENAI_API_KEY is not set",
    }
    ollama = registry.get("Local Ollama")
    assert ollama is not None and (ollama.base_url, ollama.model_name) == ("http://localhost:11434", "llama3.2")
    assert registry.default_name == "Local Ollama"  # the configured default lacks its key
    assert [c.context_window for c in registry.models] == [200000, 16385, 128000, 8192]


def test_seed_file_with_variables_from_environment_and_dotenv(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-from-dotenv\nOLLAMA_BASE_URL=http://gpu:11434\n")
    monkeypatch.delenv("OLLAMA_BASE_URL")  # conftest points it at a closed port; here .env must supply it
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # the environment would win over .env
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OLLAMA_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("LLM_CONFIG_FILE", str(ROOT / "config" / "llms.yml"))
    settings = load_settings(env_file=tmp_path / ".env")
    registry = ModelRegistry.from_settings(settings)
    assert registry.unavailable() == {} and registry.default_name == "Anthropic Claude"
    assert registry.get("Anthropic Claude").api_key.get_secret_value() == "sk-ant-from-dotenv"  # type: ignore[union-attr]
    assert registry.get("OpenAI GPT-4").api_key.get_secret_value() == "sk-openai"  # type: ignore[union-attr]
    ollama = registry.get("Local Ollama")
    assert ollama is not None and (ollama.base_url, ollama.model_name) == ("http://gpu:11434", "qwen2.5:7b")


async def test_nothing_configured_offers_the_models_ollama_lists(tmp_path: Path, llm_server) -> None:
    llm_server.route("GET", "/api/tags", Reply.json({"models": [
        {"name": "llama3.2:latest", "size": 2019393189}, {"name": "qwen2.5:7b"}, {"size": 1},
    ]}))
    registry = ModelRegistry.from_settings(settings_with(tmp_path, ollama_base_url=llm_server.base_url))
    assert registry.discovering and registry.names == []  # nothing is asked before the background probe
    try:
        await registry.discover()
    finally:
        await registry.aclose()
    assert [request.path for request in llm_server.requests] == ["/api/tags"]
    assert registry.names == ["llama3.2:latest", "qwen2.5:7b"] and registry.default_name == "llama3.2:latest"
    config = registry.get("qwen2.5:7b")
    assert config is not None and (config.provider, config.base_url, config.model_name) == (
        "ollama", llm_server.base_url, "qwen2.5:7b")


async def test_absent_ollama_leaves_the_registry_empty(tmp_path: Path) -> None:
    registry = ModelRegistry.from_settings(settings_with(tmp_path, ollama_base_url=f"http://127.0.0.1:{free_port()}"))
    began = time.monotonic()
    try:
        await registry.discover()
    finally:
        await registry.aclose()
    assert time.monotonic() - began < 3
    assert registry.names == [] and registry.default_name is None
    assert registry.discovery_error == "Could not connect to the model's server. It may be down or unreachable."


async def test_ollama_answering_garbage_leaves_the_registry_empty(tmp_path: Path, llm_server) -> None:
    llm_server.route("GET", "/api/tags", Reply.json(["not", "a", "model", "list"]))
    registry = ModelRegistry.from_settings(settings_with(tmp_path, ollama_base_url=llm_server.base_url))
    try:
        await registry.discover()
    finally:
        await registry.aclose()
    assert registry.names == [] and "could not be understood" in registry.discovery_error
