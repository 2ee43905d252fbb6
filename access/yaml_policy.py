"""The default policy: groups from config/permissions.yml grant tools, data sources and models.

A user belongs to every group whose `members` (exact emails or globs like `*@example.com`) or `domains`
match their email; someone in no group gets the `default` group. Allows are unioned over the user's groups,
then every `deny` of those groups is taken away: an explicit deny always beats an allow.

A bad file stops start-up with one line naming the file and the entry, like the model configuration.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from access.policy import ADMINS_GROUP, Kind
from galaxy_chat.vocabulary.users import User, normalise_email
from galaxy_chat.yaml_config import load_yaml, read_text, validation_problem

DEFAULT_GROUP = "default"
KINDS: dict[Kind, str] = {"tool": "tools", "data_source": "data_sources", "model": "models",
                          "mcp_server": "mcp_servers", "upload": "uploads"}
UPLOAD_KINDS = ("table", "document", "image", "text", "other")  # what an attached file is, by its content
MCP_SEPARATOR = "__"  # an MCP tool is named <server>__<tool>
GLOB_CHARS = frozenset("*?[")
_DOMAIN = re.compile(r"^(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")


class PolicyError(Exception):
    """The permission configuration is unusable; the message is one line naming the file and the entry."""


class _Deny(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tools: list[str] = []
    data_sources: list[str] = []
    models: list[str] = []
    mcp_servers: list[str] = []
    uploads: list[str] = []


class _GroupEntry(BaseModel):
    """One group as written in the file (validated shape only; meaning is checked in `_group`)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    members: list[str] = []
    domains: list[str] = []
    tools: list[str] = []
    data_sources: list[str] = []
    models: list[str] = []
    mcp_servers: list[str] = []
    uploads: bool | list[str] = True  # files the group may attach: true (all kinds), false, or kinds
    deny: _Deny = _Deny()


GROUP_FIELDS = list(_GroupEntry.model_fields)


@dataclass(frozen=True)
class Group:
    name: str
    emails: frozenset[str]  # exact, normalised
    email_globs: tuple[str, ...]
    domains: tuple[str, ...]  # exact domains or globs like *.example.com
    allow: dict[str, tuple[str, ...]]  # "tools" / "data_sources" / "models" -> lower-cased patterns
    deny: dict[str, tuple[str, ...]]

    def has_member(self, email: str) -> bool:
        if email in self.emails or any(fnmatch.fnmatchcase(email, glob) for glob in self.email_globs):
            return True
        domain = email.rpartition("@")[2]
        return any(fnmatch.fnmatchcase(domain, pattern) for pattern in self.domains)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    # Case-insensitive: model names like "OpenAI GPT-4" are easy to mistype in case, and never differ only by it.
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in patterns)


class YamlPolicy:
    """Implements `access.policy.Policy` from parsed groups; build it with `from_file` or `parse`."""

    def __init__(self, groups: list[Group], default: Group | None, where: str = "permissions") -> None:
        self.groups = groups
        self.default = default
        self.where = where

    @classmethod
    def from_file(cls, path: Path) -> YamlPolicy:
        text = read_text(path, PolicyError)
        if text is None:
            raise PolicyError(f"{path}: cannot be read (the file does not exist)")
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, where: str) -> YamlPolicy:
        entries = _top_level(load_yaml(text, where, PolicyError), where)
        groups = [_group(name, raw, where) for name, raw in entries.items()]
        default = next((group for group in groups if group.name == DEFAULT_GROUP), None)
        return cls([group for group in groups if group is not default], default, where)

    def groups_of(self, user: User) -> list[Group]:
        """The groups that apply to `user`: every matching group, else the default group (if any)."""
        matching = [group for group in self.groups if group.has_member(user.email)]
        if matching:
            return matching
        return [self.default] if self.default else []

    def can_use(self, user: User, kind: Kind, name: str) -> bool:
        key = KINDS.get(kind)
        if key is None:  # an unknown kind is never granted: fail closed
            return False
        groups = self.groups_of(user)
        allowed = any(_matches(name, group.allow[key]) for group in groups)
        denied = any(_matches(name, group.deny[key]) for group in groups)
        server, separator, _ = name.partition(MCP_SEPARATOR)
        if kind == "tool" and separator:  # an MCP tool: its server's grant counts, and a denied server wins
            allowed = allowed or self.can_use(user, "mcp_server", server)
            denied = denied or any(_matches(server, group.deny["mcp_servers"]) for group in groups)
        return allowed and not denied

    def is_admin(self, user: User) -> bool:
        """A member of the `admins` group (matched by its members or domains like any group)."""
        return any(group.name == ADMINS_GROUP and group.has_member(user.email) for group in self.groups)

    def _permitted(self, user: User, kind: Kind, available: Iterable[str]) -> list[str]:
        return [name for name in available if self.can_use(user, kind, name)]

    def tools_for(self, user: User, available: Iterable[str]) -> list[str]:
        return self._permitted(user, "tool", available)

    def data_sources_for(self, user: User, available: Iterable[str]) -> list[str]:
        return self._permitted(user, "data_source", available)

    def models_for(self, user: User, available: Iterable[str]) -> list[str]:
        return self._permitted(user, "model", available)


def _top_level(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        # An empty file is refused rather than read as "nobody may use anything": delete it to allow all.
        raise PolicyError(f"{where}: expected a mapping with 'groups:' (delete the file to allow everything)")
    unknown = sorted(str(key) for key in set(data) - {"groups"})
    if unknown:
        raise PolicyError(f"{where}: unknown top-level key {unknown[0]!r} (expected 'groups')")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise PolicyError(f"{where}: 'groups' must be a mapping of group names to groups")
    for name in groups:
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"{where}: groups: group name {name!r} must be a non-empty text")
    return groups


def _allowed_fields(loc: list[str]) -> list[str]:
    return GROUP_FIELDS if len(loc) == 1 else list(_Deny.model_fields)


def _patterns(values: list[str], label: str) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if not value.strip():
            raise PolicyError(f"{label}[{index}]: an empty name matches nothing")
    return tuple(value.strip().lower() for value in values)


def _group(name: str, raw: Any, where: str) -> Group:
    label = f"{where}: groups.{name}"
    if raw is None or not isinstance(raw, dict):
        raise PolicyError(f"{label}: expected a mapping of fields (allowed: {', '.join(GROUP_FIELDS)})")
    try:
        entry = _GroupEntry.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(f"{label}: {validation_problem(exc, _allowed_fields)}") from None
    emails: set[str] = set()
    globs: list[str] = []
    for index, member in enumerate(entry.members):
        text = member.strip().lower()
        if GLOB_CHARS & set(text) and "@" in text:
            globs.append(text)
        elif (email := normalise_email(text)) is not None:
            emails.add(email)
        else:
            raise PolicyError(f"{label}.members[{index}]: {member!r} is not an email or a glob like *@example.com")
    domains = []
    for index, domain in enumerate(entry.domains):
        text = domain.strip().lower().removeprefix("@")
        if not _DOMAIN.match(text):
            raise PolicyError(f"{label}.domains[{index}]: {domain!r} is not a domain like example.com "
                              "or *.example.com")
        domains.append(text)
    if name == DEFAULT_GROUP and (emails or globs or domains):
        raise PolicyError(f"{label}: the default group takes no members (it applies to everyone in no other group)")
    if name != DEFAULT_GROUP and not (emails or globs or domains):
        raise PolicyError(f"{label}: the group has no members (add 'members' or 'domains')")
    uploads = ["*"] if entry.uploads is True else [] if entry.uploads is False else entry.uploads
    for where_, kinds in ((f"{label}.uploads", uploads), (f"{label}.deny.uploads", entry.deny.uploads)):
        for index, kind in enumerate(kinds):
            if kind != "*" and kind.strip().lower() not in UPLOAD_KINDS:
                raise PolicyError(f"{where_}[{index}]: {kind!r} is not a kind of file ({', '.join(UPLOAD_KINDS)})")
    allow = {key: _patterns(uploads if key == "uploads" else getattr(entry, key), f"{label}.{key}")
             for key in KINDS.values()}
    deny = {key: _patterns(getattr(entry.deny, key), f"{label}.deny.{key}") for key in KINDS.values()}
    return Group(name, frozenset(emails), tuple(globs), tuple(domains), allow, deny)
