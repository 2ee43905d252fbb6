"""Configuration of one MCP server (pydantic), and parsing of a list of them from already-loaded YAML data.

Two shapes are accepted: ours (`servers: [{id: ..., command: ...}, ...]`) and the `mcpServers: {name: {...}}`
block that Claude Desktop, Cursor and LibreChat use, so a block copied from their docs works as it is.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

log = logging.getLogger(__name__)

# OpenAI's function-name rule is ^[a-zA-Z0-9_-]{1,64}$ and a tool is offered as `<server>__<tool>`; a short id
# leaves room for the tool's own name.
MAX_ID_LENGTH = 24
TOOL_SEPARATOR = "__"
_ID = re.compile(rf"^[a-zA-Z0-9_-]{{1,{MAX_ID_LENGTH}}}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

Transport = Literal["stdio", "streamable-http", "sse"]
_PASTED_TYPES: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "streamable-http",
    "streamable-http": "streamable-http",
    "streamable_http": "streamable-http",
    "streamablehttp": "streamable-http",
    "sse": "sse",
}
# Keys other clients put in a pasted block that have no meaning here (or an ambiguous unit, like LibreChat's
# `timeout` in milliseconds against Cline's in seconds): dropped with a warning instead of failing the file.
_FOREIGN_KEYS = ("timeout", "initTimeout", "autoApprove", "alwaysAllow", "iconPath", "chatMenu", "envFile",
                 "serverInstructions", "customUserVars", "startup", "requiresOAuth", "oauth")


class McpConfigError(ValueError):
    """A server list that cannot be used; the message is one line naming the file and the entry."""


class McpServerConfig(BaseModel):
    """One MCP server: how to reach it and what of it to offer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Short name; also the tool-name prefix `<id>__<tool>`.")
    description: str = ""
    transport: Transport = Field(default="stdio", description="Derived from command/url unless given.")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="Added to a minimal inherited environment.")
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every HTTP request.")
    enabled: bool = True
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Per call, excluding time a person answers.")
    connect_timeout_s: float = Field(default=30.0, gt=0, le=600)
    tools: list[str] = Field(default_factory=lambda: ["*"], description="Globs of the server's tools to offer.")
    forward_identity: bool = Field(default=False, description="Send the person's verified email (HTTP only).")
    identity_header: str = "X-EMAIL-USER"
    max_result_chars: int = Field(default=20_000, ge=200, le=1_000_000, description="Cap of a result for the model.")
    max_tools: int = Field(default=64, ge=1, le=128)
    protocol: Literal["auto", "legacy"] = Field(default="auto", description="'legacy' forces the initialize handshake.")
    unavailable_reason: str = Field(default="", description="Set by the loader (a missing variable), not the file.")

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value) or TOOL_SEPARATOR in value:
            raise ValueError(f"must be 1-{MAX_ID_LENGTH} letters, digits, '-' or '_' without '__' (got {value!r})")
        return value

    @field_validator("identity_header")
    @classmethod
    def _check_header(cls, value: str) -> str:
        if not _HEADER_NAME.match(value):
            raise ValueError(f"is not an HTTP header name: {value!r}")
        return value

    @field_validator("tools")
    @classmethod
    def _check_globs(cls, value: list[str]) -> list[str]:
        if not value or any(not glob.strip() for glob in value):
            raise ValueError("needs at least one non-empty glob (use ['*'] for all tools)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _derive_transport(cls, data: Any) -> Any:
        if isinstance(data, dict) and "transport" not in data:
            if data.get("url") is not None:
                return {**data, "transport": "streamable-http"}
            return {**data, "transport": "stdio"}
        return data

    @model_validator(mode="after")
    def _check_shape(self) -> McpServerConfig:
        if self.transport == "stdio":
            if not self.command:
                raise ValueError("a stdio server needs 'command' (or give 'url' for an HTTP server)")
            if self.url is not None or self.headers:
                raise ValueError("'url'/'headers' belong to an HTTP server, not to one started with 'command'")
            if self.forward_identity:
                raise ValueError("'forward_identity' needs an HTTP server (streamable-http)")
            return self
        if not self.url or not re.match(r"^https?://[^\s/]+", self.url):
            raise ValueError(f"an HTTP server needs 'url' starting with http:// or https:// (got {self.url!r})")
        if self.command is not None or self.args or self.env or self.cwd is not None:
            raise ValueError("'command'/'args'/'env'/'cwd' belong to a stdio server, not to one reached by 'url'")
        if self.forward_identity and self.transport != "streamable-http":
            raise ValueError("'forward_identity' works with transport streamable-http only")
        if self.forward_identity and self.identity_header.lower() in {name.lower() for name in self.headers}:
            raise ValueError(f"'headers' must not set {self.identity_header}: forward_identity sets it per call")
        return self

    def tool_name(self, tool: str) -> str:
        """The name the model sees for one of this server's tools."""
        return f"{self.id}{TOOL_SEPARATOR}{tool}"


def parse_mcp_servers(data: Any, where: str) -> list[McpServerConfig]:
    """Servers from parsed YAML: `servers: [...]`, a pasted `mcpServers: {...}` block, or both.

    Raises McpConfigError with one line such as `config/mcp_servers.yml: servers[2] (github): field 'url' ...`.
    """
    if data is None:
        return []
    if not isinstance(data, dict):
        raise McpConfigError(f"{where}: expected a mapping with 'servers:' or 'mcpServers:', got {_kind(data)}")
    unknown = sorted(set(data) - {"servers", "mcpServers"})
    if unknown:
        raise McpConfigError(f"{where}: unknown top-level key {unknown[0]!r} (expected 'servers' or 'mcpServers')")
    servers = [*_ours(data.get("servers"), where), *_pasted(data.get("mcpServers"), where)]
    seen: set[str] = set()
    for server in servers:
        if server.id.lower() in seen:
            raise McpConfigError(f"{where}: server id {server.id!r} is used twice (ids name tools, so they differ)")
        seen.add(server.id.lower())
    return servers


def _ours(entries: Any, where: str) -> list[McpServerConfig]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise McpConfigError(f"{where}: 'servers' must be a list, got {_kind(entries)}")
    servers = []
    for index, entry in enumerate(entries):
        label = f"servers[{index}]"
        if not isinstance(entry, dict):
            raise McpConfigError(f"{where}: {label}: expected a mapping, got {_kind(entry)}")
        if isinstance(entry.get("id"), str):
            label += f" ({entry['id']})"
        servers.append(_build(entry, f"{where}: {label}"))
    return servers


def _pasted(block: Any, where: str) -> list[McpServerConfig]:
    if block is None:
        return []
    if not isinstance(block, dict):
        raise McpConfigError(f"{where}: 'mcpServers' must be a mapping of name to server, got {_kind(block)}")
    servers = []
    for name, entry in block.items():
        label = f"{where}: mcpServers.{name}"
        if not isinstance(name, str):  # YAML reads unquoted off/on/yes/no as booleans
            raise McpConfigError(f"{label}: the server name must be text; quote it in the YAML")
        if not isinstance(entry, dict):
            raise McpConfigError(f"{label}: expected a mapping, got {_kind(entry)}")
        fields = dict(entry)
        for key in _FOREIGN_KEYS:
            if key in fields:
                fields.pop(key)
                log.warning("%s: ignoring %r (not used by this app)", label, key)
        if "disabled" in fields:
            fields["enabled"] = not fields.pop("disabled")
        kind = fields.pop("type", None)
        if kind is not None:
            transport = _PASTED_TYPES.get(str(kind).lower().replace(" ", ""))
            if transport is None:
                raise McpConfigError(f"{label}: field 'type': unknown transport {kind!r} (stdio, http or sse)")
            fields["transport"] = transport
        fields.setdefault("id", str(name))
        servers.append(_build(fields, label))
    return servers


def _build(fields: dict[str, Any], label: str) -> McpServerConfig:
    try:
        return McpServerConfig.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        location = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise McpConfigError(f"{label}: unknown field {location!r}") from None
        field = f"field {location!r}: " if location else ""
        raise McpConfigError(f"{label}: {field}{message}") from None


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)
