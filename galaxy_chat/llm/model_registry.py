"""The models on offer, in configuration order, and the one HTTP client every provider shares.

When nothing is configured the registry is filled from a local Ollama (`GET /api/tags`); that probe runs
in the background, so start-up never waits for it, and an absent Ollama just leaves the registry empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.llms_file import LoadedModels, load_models
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.provider import Provider, create_http_client
from galaxy_chat.settings import Settings

log = logging.getLogger(__name__)

OLLAMA_PROBE_TIMEOUT_S = 3.0
ProviderFactory = Callable[[ModelConfig, httpx.AsyncClient], Provider]


async def probe_ollama(client: httpx.AsyncClient, base_url: str, timeout_s: float) -> list[ModelConfig]:
    """The models an Ollama server lists; raises LLMError (a user sentence) when it cannot be asked."""
    url = f"{base_url.rstrip('/')}/api/tags"
    try:
        response = await client.get(url, timeout=timeout_s)
    except httpx.TimeoutException:
        raise LLMError(FaultKind.TIMEOUT, f"GET {url} timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise LLMError(FaultKind.CONNECT, f"GET {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise LLMError(FaultKind.SERVER if response.status_code >= 500 else FaultKind.BAD_REQUEST,
                       f"GET {url}: HTTP {response.status_code}", status=response.status_code)
    try:
        listed = response.json().get("models") or []
        names = [item["name"] for item in listed if isinstance(item.get("name"), str) and item["name"]]
    except (ValueError, AttributeError, TypeError):
        raise LLMError(FaultKind.MALFORMED, f"GET {url}: not an Ollama model list") from None
    return [
        ModelConfig(name=name, provider="ollama", base_url=base_url, model_name=name)
        for name in dict.fromkeys(names)
    ]


def _default_factory(config: ModelConfig, client: httpx.AsyncClient) -> Provider:
    from galaxy_chat.llm.factory import create_provider  # at call time: providers import heavier modules

    return create_provider(config, client)


class ModelRegistry:
    """Holds ModelConfigs by name (file order) and hands out their providers."""

    def __init__(
        self, models: list[ModelConfig], default: str | None = None, *, ollama_url: str = "",
        provider_factory: ProviderFactory | None = None,
    ) -> None:
        self._models = {config.name: config for config in models}
        self._explicit_default = default
        self.ollama_url = ollama_url  # set: nothing was configured, so models come from this Ollama
        self.discovery_error = ""  # the last probe's user sentence ("" after a successful probe)
        self._factory = provider_factory or _default_factory
        self._providers: dict[str, tuple[ModelConfig, Provider]] = {}
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, loaded: LoadedModels | None = None) -> ModelRegistry:
        """Registry of the configured models (raises ModelConfigError); probes Ollama if there are none."""
        loaded = loaded if loaded is not None else load_models(settings)
        ollama_url = settings.ollama_base_url if loaded.source == "none" else ""
        return cls(loaded.models, loaded.default, ollama_url=ollama_url)

    @property
    def discovering(self) -> bool:
        return bool(self.ollama_url)

    @property
    def models(self) -> list[ModelConfig]:
        return list(self._models.values())

    @property
    def names(self) -> list[str]:
        return list(self._models)

    def get(self, name: str) -> ModelConfig | None:
        return self._models.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __len__(self) -> int:
        return len(self._models)

    def available(self) -> list[ModelConfig]:
        return [config for config in self._models.values() if config.available]

    def unavailable(self) -> dict[str, str]:
        """Name → the reason the model cannot be used."""
        return {config.name: config.unavailable_reason for config in self._models.values() if not config.available}

    @property
    def default_name(self) -> str | None:
        """The explicit `default:` if it can be used, else the first available model, else None."""
        explicit = self._models.get(self._explicit_default or "")
        if explicit is not None and explicit.available:
            return explicit.name
        first = next(iter(self.available()), None)
        return first.name if first else None

    @property
    def client(self) -> httpx.AsyncClient:
        """The one pooled client of every provider, created on first use."""
        if self._client is None or self._client.is_closed:
            self._client = create_http_client()
        return self._client

    def provider(self, name: str) -> Provider:
        """The provider of model `name`; raises LLMError(UNAVAILABLE) if it is unknown or unusable."""
        config = self._models.get(name)
        if config is None:
            raise LLMError(FaultKind.UNAVAILABLE, f"no model named {name!r}",
                           sentence=f"The model {name} is not configured on this server.")
        if not config.available:
            raise LLMError(FaultKind.UNAVAILABLE, config.unavailable_reason,
                           sentence=f"The model {name} is not available: {config.unavailable_reason}.")
        cached = self._providers.get(name)
        if cached is None or cached[0] != config:
            cached = (config, self._factory(config, self.client))
            self._providers[name] = cached
        return cached[1]

    async def discover(self, timeout_s: float = OLLAMA_PROBE_TIMEOUT_S) -> None:
        """Refresh the models from Ollama (only when nothing is configured); never raises."""
        if not self.discovering:
            return
        try:
            found = await probe_ollama(self.client, self.ollama_url, timeout_s)
        except LLMError as exc:
            if not self.discovery_error:
                log.info("no models: Ollama at %s is not reachable (%s)", self.ollama_url, exc.detail)
            self.discovery_error = str(exc)
            self._models = {}
        else:
            if [config.name for config in found] != self.names or self.discovery_error:
                log.info("Ollama at %s offers %d model(s): %s", self.ollama_url, len(found),
                         ", ".join(config.name for config in found) or "none")
            self.discovery_error = ""
            self._models = {config.name: config for config in found}
        self._providers = {name: cached for name, cached in self._providers.items() if name in self._models}

    async def aclose(self) -> None:
        """Close the shared HTTP client (on shutdown)."""
        if self._client is not None:
            await self._client.aclose()
