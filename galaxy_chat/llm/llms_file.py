"""Reads config/llms.yml (or the LLM_* settings) into ModelConfigs.

A bad file stops start-up with one line naming the file, the entry and the field; a missing environment
variable only makes its model unavailable, so one absent key never takes the whole app down.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.settings import Settings
from galaxy_chat.yaml_config import (
    entry_list,
    expand,
    load_yaml,
    mappings,
    read_text,
    validation_problem,
    variables_from,
)

log = logging.getLogger(__name__)

Source = Literal["file", "settings", "none"]
PROVIDERS = ("openai", "anthropic", "ollama")
FILE_FIELDS = [name for name in ModelConfig.model_fields if name != "unavailable_reason"]
TEXT_KEYS = frozenset({"name", "provider", "base_url", "model_name"})
SECRET_KEYS = frozenset({"api_key", "headers"})  # their values are never echoed in an error


class ModelConfigError(Exception):
    """The model configuration is unusable; the message is one line naming file, entry and field."""


@dataclass
class LoadedModels:
    """What the configuration asks for. `source` "none" means nothing is configured: probe Ollama."""

    models: list[ModelConfig] = field(default_factory=list)
    default: str | None = None
    source: Source = "none"


def _expand_entry(raw: dict[str, Any], variables: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    missing: list[str] = []
    entry: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            expanded, lacking = expand(value, variables)
            missing += lacking
            if not lacking:
                entry[key] = expanded
            elif key in TEXT_KEYS:  # keep the template: the model is never called, and it shows what is absent
                entry[key] = value
            # other fields (the key, numbers) fall back to their defaults: the model is unavailable anyway
        elif key == "headers" and isinstance(value, dict):
            headers = {}
            for name, header in value.items():
                expanded, lacking = expand(header, variables) if isinstance(header, str) else (header, [])
                headers[name] = "" if lacking else expanded
                missing += lacking
            entry[key] = headers
        else:
            entry[key] = value
    return entry, list(dict.fromkeys(missing))


def _unavailable_reason(missing: list[str]) -> str:
    if len(missing) == 1:
        return f"environment variable {missing[0]} is not set"
    return "environment variables " + ", ".join(missing[:-1]) + f" and {missing[-1]} are not set"


def _describe(error: ValidationError, entry: dict[str, Any]) -> str:
    """The first problem of one entry, as `field 'x' ...` (secret values are never echoed)."""
    item = error.errors()[0]
    if item["loc"][:1] == ("provider",) and item["type"] != "missing":
        return f"field 'provider': unknown provider {entry.get('provider')!r} (expected {', '.join(PROVIDERS)})"
    return validation_problem(error, FILE_FIELDS, SECRET_KEYS)


def _check_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"field 'base_url': must be an http:// or https:// URL with a host (got {url!r})"
    return None


def parse_models(text: str, where: str, variables: Mapping[str, str]) -> LoadedModels:
    """Parse the YAML text of a model file; `where` names the file in error messages."""
    entries, top = entry_list(load_yaml(text, where, ModelConfigError), where, ModelConfigError, "models",
                              ("default",))
    default = top.get("default")
    models: list[ModelConfig] = []
    seen: dict[str, int] = {}
    for index, (_, raw) in enumerate(mappings(entries, where, ModelConfigError, "models", "name")):
        entry, missing = _expand_entry(raw, variables)  # labelled by the expanded name
        label = f"models[{index}]" + (f" ({entry['name']})" if isinstance(entry.get("name"), str) else "")
        if "unavailable_reason" in entry:  # computed here, never written in the file
            raise ModelConfigError(f"{where}: {label}: unknown field 'unavailable_reason'")
        if missing:
            entry["unavailable_reason"] = _unavailable_reason(missing)
        try:
            config = ModelConfig.model_validate(entry)
        except ValidationError as exc:
            raise ModelConfigError(f"{where}: {label}: {_describe(exc, entry)}") from None
        if config.available and (problem := _check_url(config.base_url)):
            raise ModelConfigError(f"{where}: {label}: {problem}")
        if config.name in seen:
            raise ModelConfigError(f"{where}: {label}: field 'name' repeats models[{seen[config.name]}]")
        seen[config.name] = index
        models.append(config)
    if isinstance(default, str):
        default = expand(default, variables)[0] or None  # a missing variable means "no explicit default"
    if default is not None and (not isinstance(default, str) or default not in seen):
        raise ModelConfigError(f"{where}: default: no model is named {default!r}")
    return LoadedModels(models, default, "file" if models else "none")


def load_model_file(path: Path, variables: Mapping[str, str]) -> LoadedModels:
    """The models in `path`; an absent file configures nothing."""
    text = read_text(path, ModelConfigError)
    return LoadedModels() if text is None else parse_models(text, str(path), variables)


def models_from_settings(settings: Settings) -> LoadedModels:
    """The single OpenAI-compatible model of LLM_BASE_URL / LLM_API_KEY / LLM_MODEL_NAME, if set."""
    if not settings.llm_base_url:
        return LoadedModels()
    if not settings.llm_model_name:
        raise ModelConfigError("invalid setting LLM_MODEL_NAME: must be set when LLM_BASE_URL is set")
    config = ModelConfig(
        name=settings.llm_model_name, provider="openai", base_url=settings.llm_base_url,
        api_key=settings.llm_api_key, model_name=settings.llm_model_name,
    )
    return LoadedModels([config], config.name, "settings")


def load_models(settings: Settings, variables: Mapping[str, str] | None = None) -> LoadedModels:
    """The configured models: config file first, then the LLM_* settings; `source` "none" if neither."""
    if variables is None:
        variables = variables_from(settings)
    loaded = load_model_file(settings.llm_config_file, variables)
    if loaded.models:
        if settings.llm_base_url:
            log.warning("LLM_BASE_URL is ignored: %s lists the models", settings.llm_config_file)
        return loaded
    return models_from_settings(settings)
