"""Which models a person may pick, which one a chat starts with, and what is known to be wrong with one."""

from __future__ import annotations

from dataclasses import dataclass

from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry

MODELS_HELP = "see “Models” in the README"
WITHOUT_MODEL = "The commands below work without a model."


@dataclass(frozen=True)
class ModelChoice:
    name: str
    available: bool
    reason: str = ""  # why it cannot be used, when not available


def model_choices(registry: ModelRegistry, permitted: list[str]) -> list[ModelChoice]:
    """The permitted models in the configured order; unavailable ones stay listed, with their reason."""
    return [ModelChoice(config.name, config.available, config.unavailable_reason)
            for config in registry.models if config.name in permitted]


def default_model(registry: ModelRegistry, permitted: list[str]) -> str:
    """The configured default when it is usable, else the first usable model, else the first permitted."""
    available = [config.name for config in registry.available() if config.name in permitted]
    if registry.default_name in available:
        return registry.default_name or ""
    return available[0] if available else (permitted[0] if permitted else "")


def model_notice(registry: ModelRegistry, health: HealthMonitor, permitted: list[str], model: str) -> str:
    """Why `model` cannot answer now and what to do about it; empty when nothing is known to be wrong."""
    config = registry.get(model) if model in permitted else None
    if config is None:
        return (f"No language model is configured for you. Add one to config/llms.yml or set LLM_BASE_URL "
                f"({MODELS_HELP}). {WITHOUT_MODEL}")
    if not config.available:
        return f"The model {config.name} is unavailable: {config.unavailable_reason}. See “Models” in the README. " \
               f"{WITHOUT_MODEL}"
    status = health.status(config).public()
    if status.get("status") == "error":
        return (f"The model {config.name} failed its last check: {status.get('error')} Check its base_url and key "
                f"({MODELS_HELP}). {WITHOUT_MODEL}")
    return ""
