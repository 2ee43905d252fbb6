"""What every YAML configuration file shares (llms.yml, permissions.yml, data_sources.yml, mcp_servers.yml):
reading it, parsing it with the error's position, `${VAR}` expansion, and one-line messages for bad entries.

Each file's module raises its own error class (ModelConfigError, PolicyError, …), passed in as `error`, so
start-up can say which file is wrong in one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from galaxy_chat.settings import Settings

ErrorClass = type[Exception]
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def read_text(path: Path, error: ErrorClass) -> str | None:
    """The file's text; None when it does not exist (an absent file configures nothing)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


def load_yaml(text: str, where: str, error: ErrorClass) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise error(f"{where}: invalid YAML{place}: {problem}") from None


def entry_list(data: Any, where: str, error: ErrorClass, key: str,
               others: Sequence[str] = ()) -> tuple[list[Any], dict[str, Any]]:
    """The list under `key` (a bare list works too) and the whole top-level mapping, checked for unknown keys."""
    if data is None:
        return [], {}
    if isinstance(data, list):
        return data, {}
    if not isinstance(data, dict):
        raise error(f"{where}: expected a list or a mapping with '{key}:'")
    allowed = (key, *others)
    unknown = sorted(str(name) for name in set(data) - set(allowed))
    if unknown:
        expected = " and ".join(f"'{name}'" for name in allowed)
        raise error(f"{where}: unknown top-level key {unknown[0]!r} (expected {expected})")
    entries = data.get(key)
    if entries is not None and not isinstance(entries, list):
        raise error(f"{where}: '{key}' must be a list")
    return entries or [], data


def mappings(entries: list[Any], where: str, error: ErrorClass, key: str, name_field: str) -> list[tuple[str, dict]]:
    """Each entry with its label for messages, e.g. `models[2] (OpenAI GPT-4)`; non-mappings are refused."""
    labelled = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise error(f"{where}: {key}[{index}]: expected a mapping of fields, got {type(raw).__name__}")
        name = raw.get(name_field)
        labelled.append((f"{key}[{index}]" + (f" ({name})" if isinstance(name, str) else ""), raw))
    return labelled


def validation_problem(error: ValidationError, allowed: Sequence[str] | Callable[[list[str]], Sequence[str]],
                       secret: frozenset[str] = frozenset(), skip: int = 0) -> str:
    """The first problem of one entry as `field 'x' …`: missing, unknown (with the allowed fields) or invalid
    (with the value, unless the field is secret). `skip` leading parts of the location are a union's tag."""
    item = error.errors()[0]
    loc = [str(part) for part in item["loc"]][skip:]
    where = ".".join(loc) or "entry"
    if item["type"] == "missing":
        return f"field '{where}' is required"
    if item["type"] == "extra_forbidden":
        fields = allowed(loc) if callable(allowed) else allowed
        return f"unknown field '{where}' (allowed: {', '.join(fields)})"
    message = item["msg"].removeprefix("Value error, ")
    if loc[:1] and loc[0] not in secret and isinstance(item.get("input"), str | int | float | bool):
        message += f" (got {item['input']!r})"
    return f"field '{where}': {message}"


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand `${VAR}` and `${VAR:-default}`; return the text and the variables that were missing.

    As in the shell, `:-` also applies when the variable is set but empty.
    """
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = variables.get(name, "")
        if value:
            return value
        if default is None:
            missing.append(name)  # set-but-empty counts as missing: an empty key is never what was meant
        return default or ""

    return VARIABLE.sub(replace, text), missing


def variables_from(settings: Settings) -> dict[str, str]:
    """Variables for expansion: the environment wins over `.env` (like Settings itself)."""
    found = {str(key).upper(): str(value) for key, value in (settings.model_extra or {}).items()}
    for name in settings.model_fields_set & set(Settings.model_fields):
        value = getattr(settings, name)
        found[name.upper()] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    found.update(os.environ)
    return found
