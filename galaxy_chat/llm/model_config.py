"""One configured model: where it is, how to call it, and whether it can be used."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

ProviderName = Literal["openai", "anthropic", "ollama"]


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Name shown to users and used in permissions.")
    provider: ProviderName
    base_url: str = Field(min_length=1)
    api_key: SecretStr = SecretStr("")
    model_name: str = Field(min_length=1)
    max_tokens: int | None = Field(None, gt=0)
    temperature: float | None = Field(None, ge=0, le=2)
    context_window: int = Field(8192, gt=0, description="Tokens the model accepts; the context is trimmed to fit.")
    timeout_s: float = Field(120.0, gt=0, description="Longest wait between two chunks of a reply.")
    headers: dict[str, str] = Field(default_factory=dict)
    vision: bool = Field(False, description="The model can see images: attached images are sent to it.")
    unavailable_reason: str = Field("", description="Why the model cannot be used (e.g. a missing variable).")

    @property
    def available(self) -> bool:
        return not self.unavailable_reason
