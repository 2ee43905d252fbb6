"""Builds the provider for a model from its configuration."""

from __future__ import annotations

import httpx

from galaxy_chat.llm.anthropic import AnthropicProvider
from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.openai import OllamaProvider, OpenAIProvider
from galaxy_chat.llm.provider import Provider

PROVIDERS: dict[str, type[OpenAIProvider] | type[AnthropicProvider]] = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
    "ollama": OllamaProvider,
}


def create_provider(config: ModelConfig, client: httpx.AsyncClient) -> Provider:
    """A provider for `config`; an unavailable model (e.g. a missing variable) raises LLMError at once."""
    if not config.available:
        raise LLMError(FaultKind.UNAVAILABLE, config.unavailable_reason,
                       sentence=f"The model {config.name} is not available: {config.unavailable_reason}.")
    return PROVIDERS[config.provider](config, client)
