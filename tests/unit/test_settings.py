"""Settings: defaults, environment and `.env` overrides, and bad values that stop start-up in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from galaxy_chat.settings import SettingsError, load_settings
from galaxy_chat.testing.app_process import ROOT, subprocess_env


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOG_DIR", "DATA_DIR", "LLM_CONFIG_FILE", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(name)
    settings = load_settings(env_file=None)
    assert settings.app_name == "Galaxy Chat"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.test_email == "test@test.com"
    assert settings.llm_config_file == Path("config/llms.yml")
    assert settings.ollama_base_url == "http://localhost:11434"
    assert settings.log_dir == Path("logs") and settings.data_dir == Path("data")
    assert settings.log_level == "INFO"
    assert not (settings.test_mode or settings.disable_websocket or settings.disable_llm_calls)
    assert settings.llm_api_key.get_secret_value() == ""


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_NAME", "Acme Chat")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("TEST_MODE", "true")
    monkeypatch.setenv("LLM_BASE_URL", "http://llm.internal:8000/v1/")
    monkeypatch.setenv("log_level", "debug")
    settings = load_settings(env_file=None)
    assert settings.app_name == "Acme Chat"
    assert settings.port == 9001
    assert settings.test_mode is True
    assert settings.llm_base_url == "http://llm.internal:8000/v1"
    assert settings.log_level == "DEBUG"


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("APP_NAME=From Dotenv\nPORT=9100\nTEAM_COLOUR=blue\n")
    settings = load_settings(env_file=env_file)
    assert (settings.app_name, settings.port) == ("From Dotenv", 9100)
    assert settings.model_extra == {"team_colour": "blue"}  # extra fields are allowed
    monkeypatch.setenv("PORT", "9200")
    assert load_settings(env_file=env_file).port == 9200


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    assert load_settings(env_file=None, port="9300", host=None).port == 9300


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "abc", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("LLM_BASE_URL", "localhost:8000", "LLM_BASE_URL: must be an http:// or https:// URL with a host"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("TRUSTED_PROXY_IPS", "10.0.0.0/8,not-an-ip", "TRUSTED_PROXY_IPS: 'not-an-ip' is not an IP address"),
        ("TEST_EMAIL", "nobody", "TEST_EMAIL: must be an email address"),
        ("TEST_MODE", "perhaps", "TEST_MODE: Input should be a valid boolean"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_secret_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_API_KEY", "sk-very-secret")
    settings = load_settings(env_file=None)
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "galaxy_chat", *args], cwd=tmp_path, env=subprocess_env(**env), capture_output=True,
        text=True,
        timeout=30,
    )


def test_bad_port_stops_startup_with_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, PORT="abc")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PORT" in lines[0] and "valid integer" in lines[0]


def test_bad_url_in_dotenv_stops_startup(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LLM_BASE_URL=ftp://example.com\n")
    result = run_cli(tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "galaxy-chat: invalid setting LLM_BASE_URL: must be an http:// or https:// URL with a host "
        "(got 'ftp://example.com')"
    ]


def test_test_mode_refuses_a_network_host(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--test-mode", "--host", "0.0.0.0")
    assert result.returncode != 0
    assert "refusing to start in test mode on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_readme_and_env_example_match_settings() -> None:
    from galaxy_chat.settings_doc import env_example, settings_table

    regenerate = "run: uv run python -m galaxy_chat.settings_doc --write"
    assert settings_table() in (ROOT / "README.md").read_text(), regenerate
    assert (ROOT / ".env.example").read_text() == env_example()
