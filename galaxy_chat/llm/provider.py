"""The one Protocol every provider implements, and the shared HTTP client they all use."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from functools import cache
from typing import Protocol

import httpx

from galaxy_chat.llm.messages import ChatRequest, ProviderDelta
from galaxy_chat.llm.model_config import ModelConfig

CONNECT_TIMEOUT_S = 10.0


class Provider(Protocol):
    config: ModelConfig

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderDelta]:
        """Yield TextPiece as text arrives, then exactly one StreamDone; raise LLMError on any fault.

        Faults that are retryable (429, 5xx) are retried before the first TextPiece only. Closing the
        iterator (or cancelling its task) closes the HTTP stream.
        """
        ...


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR), loaded once per process: each
    load takes ~40 ms."""
    return httpx.create_ssl_context()


def create_http_client() -> httpx.AsyncClient:
    """One pooled client for every model; the read timeout is set per request from the model's timeout_s."""
    return httpx.AsyncClient(
        verify=tls_context(),
        timeout=httpx.Timeout(120.0, connect=CONNECT_TIMEOUT_S),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=40),
        follow_redirects=False,
    )
