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


# A streaming reply holds a connection from its first token to its last, so this is the most replies (and
# health checks) talking to models at once in one process; one more waits for a free connection. Well above
# what one replica streams at once (docs/capacity.md); connections of a burst stay open for the next replies
# (keep-alive, closed after 5 s unused).
MAX_CONNECTIONS = 1000


def create_http_client(max_connections: int = MAX_CONNECTIONS) -> httpx.AsyncClient:
    """One pooled client for every model; the read timeout is set per request from the model's timeout_s."""
    return httpx.AsyncClient(
        verify=tls_context(),
        timeout=httpx.Timeout(120.0, connect=CONNECT_TIMEOUT_S),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False,
    )
