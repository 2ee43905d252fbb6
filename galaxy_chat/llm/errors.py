"""LLM faults as one exception type: a sentence a user understands, and detail for the log only."""

from __future__ import annotations

from enum import StrEnum


class FaultKind(StrEnum):
    AUTH = "auth"  # 401/403
    NOT_FOUND = "not_found"  # 404
    RATE_LIMITED = "rate_limited"  # 429
    SERVER = "server"  # 5xx
    BAD_REQUEST = "bad_request"  # other 4xx
    CONNECT = "connect"  # refused, DNS, TLS
    TIMEOUT = "timeout"  # connect or between chunks
    MALFORMED = "malformed"  # bad JSON or SSE
    INCOMPLETE = "incomplete"  # stream ended without its end marker
    PROVIDER_ERROR = "provider_error"  # an error event inside a 200 stream
    DISABLED = "disabled"  # DISABLE_LLM_CALLS
    UNAVAILABLE = "unavailable"  # model not usable (missing variable, unknown name)

    @property
    def retryable(self) -> bool:
        return self in (FaultKind.RATE_LIMITED, FaultKind.SERVER)


SENTENCES = {
    FaultKind.AUTH: "The model's provider rejected the API key. Ask your administrator to check it.",
    FaultKind.NOT_FOUND: "The model was not found at its provider. Check the model name in the configuration.",
    FaultKind.RATE_LIMITED: "The model's provider is rate-limiting requests. Please try again in a moment.",
    FaultKind.SERVER: "The model's provider had an internal error. Please try again in a moment.",
    FaultKind.BAD_REQUEST: "The model's provider refused the request.",
    FaultKind.CONNECT: "Could not connect to the model's server. It may be down or unreachable.",
    FaultKind.TIMEOUT: "The model took too long to answer.",
    FaultKind.MALFORMED: "The model's server sent a reply that could not be understood.",
    FaultKind.INCOMPLETE: "The model's reply was cut off before it finished.",
    FaultKind.PROVIDER_ERROR: "The model's provider reported an error while answering.",
    FaultKind.DISABLED: "LLM calls are disabled on this server (DISABLE_LLM_CALLS), so no model was asked.",
    FaultKind.UNAVAILABLE: "This model is not available.",
}


class LLMError(Exception):
    """`str(error)` is the user's sentence; `detail` is for the log and never holds a secret."""

    def __init__(
        self, kind: FaultKind, detail: str = "", *, status: int | None = None, retry_after: float | None = None,
        sentence: str | None = None,
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.sentence = sentence or SENTENCES[kind]
        super().__init__(self.sentence)
