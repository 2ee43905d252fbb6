"""The one Settings object: read from the environment and `.env`, created once at start, passed in."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from galaxy_chat.vocabulary.users import normalise_email

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
POLICY_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # package.module:ClassName


class SettingsError(Exception):
    """A setting has a bad value; the message is one line naming the variable and the problem."""


class Settings(BaseSettings):
    """Every setting of Galaxy Chat. Field descriptions feed the README table and `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="allow")

    app_name: str = Field("Galaxy Chat", description="Name shown in the page title and header.")
    system_prompt_override: str = Field(
        "", description="System prompt to use instead of system_prompt.md (empty: use the file)."
    )
    llm_base_url: str = Field("", description="Base URL of an OpenAI-compatible API used when llms.yml is empty.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key for LLM_BASE_URL (secret, never logged).")
    llm_model_name: str = Field("", description="Model name for LLM_BASE_URL.")
    llm_config_file: Path = Field(Path("config/llms.yml"), description="YAML file listing the models offered.")
    ollama_base_url: str = Field(
        "http://localhost:11434", description="Ollama server probed for models when no model is configured."
    )
    max_tool_rounds: int = Field(8, ge=1, le=50, description="Most model calls per reply in the tool loop.")
    status_interval_s: float = Field(
        5.0, gt=0, le=60, description="Seconds between 'Still working' updates while waiting."
    )
    health_check_interval_s: float = Field(
        60.0, ge=5, description="Seconds between health checks of every configured model."
    )
    health_check_timeout_s: float = Field(10.0, gt=0, le=120, description="Time limit of one model health check.")
    messages_per_minute: int = Field(20, ge=1, le=10_000, description="Messages one user may send per minute.")
    max_message_chars: int = Field(20_000, ge=100, le=1_000_000, description="Longest message a user may send.")
    session_idle_minutes: float = Field(
        120, gt=0, description="A session nobody has used for this long is closed (its log stays)."
    )
    tool_timeout_s: float = Field(30.0, gt=0, le=600, description="Default time limit of one tool call.")
    query_timeout_s: float = Field(
        5.0, gt=0, le=300, description="Time limit of one SQL query; a longer query is stopped."
    )
    sql_row_limit: int = Field(
        500, ge=1, le=100_000, description="Most rows one SQL query returns (the rest are cut off)."
    )
    python_sandbox: Literal["auto", "bwrap", "landlock", "none"] = Field(
        "auto", description="Python tool sandbox: auto (bubblewrap, else Landlock), bwrap, landlock or none."
    )
    allow_unsandboxed_code: bool = Field(
        False, description="Let the python tool run code without any sandbox when none works (unsafe)."
    )
    python_memory_mb: int = Field(
        512, ge=64, le=65_536, description="Address-space limit of each process the python tool starts (MB)."
    )
    python_cpu_s: int = Field(10, ge=1, le=3600, description="CPU-time limit of each python tool process (s).")
    python_output_kb: int = Field(
        64, ge=1, le=10_240, description="Most output the python tool keeps per stream (stdout, stderr), in KB."
    )
    disable_websocket: bool = Field(False, description="Serve the HTTP API only, without the chat page.")
    disable_llm_calls: bool = Field(False, description="Make no outbound LLM call (replies say so).")
    test_mode: bool = Field(False, description="Skip proxy identity and sign everyone in as TEST_EMAIL.")
    test_email: str = Field("test@test.com", description="Email used in test mode when no header is sent.")
    allow_test_mode_on_network: bool = Field(
        False, description="Allow test mode on a non-loopback HOST (anyone could sign in)."
    )
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port the server listens on.")
    log_dir: Path = Field(Path("logs"), description="Folder for session logs (JSONL).")
    data_dir: Path = Field(Path("data"), description="Folder for data sources and SQLite files.")
    database_url: SecretStr = Field(
        SecretStr(""), description="Chat history database: postgresql://user:password@host:5432/db (secret, never "
        "logged). Empty: the SQLite file DATA_DIR/history.db.",
    )
    redis_url: SecretStr = Field(
        SecretStr(""), description="Redis shared by several replicas: redis://[:password@]host:6379/0 (secret, never "
        "logged): the rate limit and one reply at a time count across them. Empty: one replica, all in-process.",
    )
    history_retention_days: int | None = Field(
        None, ge=1, description="Delete chats not updated for this many days (empty: keep them forever)."
    )
    permissions_file: Path = Field(
        Path("config/permissions.yml"), description="YAML file of groups and what they may use (absent: allow all)."
    )
    access_policy: str = Field(
        "", description="Replace the YAML policy with a class, as package.module:ClassName (empty: YAML policy)."
    )
    data_sources_file: Path = Field(
        Path("config/data_sources.yml"), description="YAML file listing the data sources (documents and tables)."
    )
    mcp_servers_file: Path = Field(
        Path("config/mcp_servers.yml"), description="YAML file listing the MCP servers whose tools are offered."
    )
    mcp_server_enabled: bool = Field(
        False, description="Serve the built-in tools to MCP clients at /mcp (behind the same identity checks)."
    )
    titles_by_model: bool = Field(
        True, description="After a chat's first reply, ask its model for a short title (else the first line stays)."
    )
    upload_max_mb: int = Field(50, ge=1, le=10_000, description="Largest file a person may upload to a chat (MB).")
    upload_max_files_per_chat: int = Field(
        20, ge=1, le=1000, description="Most files one chat may hold; a further upload is refused."
    )
    upload_max_mb_per_user: int = Field(
        500, ge=1, le=1_000_000, description="Most MB of uploaded files one person may keep across all chats."
    )
    retrieval_top_k: int = Field(4, ge=1, le=50, description="Most passages retrieved from data sources per question.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Server log level.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Server log lines as readable text, or json: one JSON object per line."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""), description="Bearer token that may read /metrics (secret; empty: only admins may read it)."
    )
    trusted_proxy_secret: SecretStr = Field(
        SecretStr(""), description="When set, requests must carry this value in X-Proxy-Secret."
    )
    trusted_proxy_ips: str = Field(
        "", description="Comma-separated IPs/CIDRs allowed to send X-EMAIL-USER (empty: any peer)."
    )
    allowed_origins: str = Field(
        "", description="Comma-separated extra origins allowed to open the WebSocket (besides the page's host)."
    )
    reconnect_timeout_s: float = Field(
        20.0, gt=0, le=600, description="Seconds a page survives a lost connection before it is discarded."
    )
    shutdown_timeout_s: float = Field(
        3.0, gt=0, le=60, description="Seconds open connections get to finish on SIGTERM/SIGINT."
    )
    drain_timeout_s: float = Field(
        25.0, ge=0, le=3600, description="On SIGTERM, seconds running replies get to finish (new messages are "
        "refused, /ready answers 503 draining) before the rest are stopped and the server shuts down.",
    )
    ws_compression: bool = Field(
        False, description="Compress WebSocket messages (permessage-deflate): ~5x less traffic for ~0.3 MB "
        "more memory and more CPU per open tab. Worth it on slow links; off suits a LAN or a reverse proxy.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("llm_base_url", "ollama_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        try:
            parts.port  # noqa: B018  # parsing the port is the check
        except ValueError as exc:
            raise ValueError(f"has an invalid port ({exc})") from None
        return value.rstrip("/")

    @field_validator("history_retention_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL, or empty for one replica")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://", "sqlite:///")):
            raise ValueError("must be a postgresql:// URL (or sqlite:///path), or empty for DATA_DIR/history.db")
        return value

    @field_validator("test_email")
    @classmethod
    def _check_test_email(cls, value: str) -> str:
        email = normalise_email(value)
        if email is None:
            raise ValueError("must be an email address like name@example.com")
        return email

    @field_validator("trusted_proxy_ips")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("access_policy")
    @classmethod
    def _check_policy_path(cls, value: str) -> str:
        value = value.strip()
        if value and not POLICY_PATH.match(value):
            raise ValueError("must look like package.module:ClassName")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        for origin in split_list(value):
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{origin!r} is not an origin like https://chat.example.com")
        return value

    @property
    def proxy_networks(self) -> list[IpNetwork]:
        return parse_networks(self.trusted_proxy_ips)

    @property
    def extra_origins(self) -> set[str]:
        return {origin.rstrip("/").lower() for origin in split_list(self.allowed_origins)}


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_networks(value: str) -> list[IpNetwork]:
    networks = []
    for item in split_list(value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR range") from None
    return networks


SECRET_FIELDS = frozenset(
    name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
)


def describe_error(error: ValidationError) -> str:
    """One line naming each bad variable and what is wrong; secret values are never echoed."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "settings"
        message = item["msg"].removeprefix("Value error, ")
        if name not in SECRET_FIELDS and isinstance(item.get("input"), str | int | float):
            message += f" (got {item['input']!r})"
        problems.append(f"{name.upper()}: {message}")
    return "invalid setting " + "; ".join(problems)


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Build Settings from environment, `.env` and overrides (e.g. command-line flags)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(_env_file=env_file, **given)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None
