"""Model health: every available model is asked "hi" in the background, at start and every interval.

Statuses hold only user sentences (LLMError's str), never the log detail, URLs, headers or keys, because
they are shown in `/ready`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from galaxy_chat.llm.errors import SENTENCES, FaultKind, LLMError
from galaxy_chat.llm.messages import ChatRequest, Message, StreamDone
from galaxy_chat.llm.model_config import ModelConfig
from galaxy_chat.llm.model_registry import OLLAMA_PROBE_TIMEOUT_S, ModelRegistry
from galaxy_chat.settings import Settings

log = logging.getLogger(__name__)

StatusName = Literal["ok", "error", "unavailable", "unchecked"]
UNEXPECTED = "The health check failed unexpectedly; the server log has the details."


def hi_request() -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content="hi")], max_tokens=3)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelStatus:
    name: str
    provider: str
    model: str  # the provider's model name (not secret; base_url and headers may be, so they are left out)
    status: StatusName = "unchecked"
    error: str = ""  # a user sentence
    latency_ms: int | None = None
    checked_at: str | None = None  # ISO 8601, UTC

    @classmethod
    def of(cls, config: ModelConfig, status: StatusName = "unchecked", error: str = "", **more: Any) -> ModelStatus:
        return cls(config.name, config.provider, config.model_name, status, error, **more)

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "model": self.model, "status": self.status, "error": self.error,
            "latency_ms": self.latency_ms, "checked_at": self.checked_at,
        }


class HealthMonitor:
    """Keeps one ModelStatus per model of the registry; `check_now()` refreshes them all concurrently."""

    def __init__(self, registry: ModelRegistry, settings: Settings) -> None:
        self.registry = registry
        self.timeout_s = settings.health_check_timeout_s
        self.interval_s = settings.health_check_interval_s
        self.calls_disabled = settings.disable_llm_calls
        self._statuses: dict[str, ModelStatus] = {}
        self._discovered_at: str | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._running: asyncio.Task[None] | None = None  # the check in progress, shared by every caller

    def initial_status(self, config: ModelConfig) -> ModelStatus:
        if not config.available:
            return ModelStatus.of(config, "unavailable", config.unavailable_reason)
        if self.calls_disabled:
            return ModelStatus.of(config, "unchecked", SENTENCES[FaultKind.DISABLED])
        return ModelStatus.of(config)

    def status(self, config: ModelConfig) -> ModelStatus:
        return self._statuses.get(config.name) or self.initial_status(config)

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Name → public status, in configuration order."""
        return {config.name: self.status(config).public() for config in self.registry.models}

    def report(self) -> dict[str, Any]:
        """What `/ready` shows under "models": statuses, the default, and the Ollama probe when there is one."""
        body: dict[str, Any] = {"default": self.registry.default_name, "models": self.statuses()}
        if self.registry.discovering:
            error = SENTENCES[FaultKind.DISABLED] if self.calls_disabled else self.registry.discovery_error
            status = "unchecked" if self._discovered_at is None else "error" if error else "ok"
            body["ollama"] = {"status": status, "error": error, "checked_at": self._discovered_at}
        return body

    def readiness_check(self) -> dict[str, Any]:
        # Ready even when models are down: the app is usable without any LLM, and /ready says which is down.
        return {"ok": True, **self.report()}

    async def check_now(self) -> dict[str, Any]:
        """Check every model now (joining a check already under way) and return the fresh report."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._check_all(), name="model health check")
        await asyncio.shield(self._running)  # a caller that goes away does not cancel the others' check
        return self.report()

    async def _check_all(self) -> None:
        if self.calls_disabled:
            return  # no outbound call at all: statuses stay "unchecked" with the disabled sentence
        if self.registry.discovering:
            await self._discover()
            return
        results = await asyncio.gather(*(self.check_model(config) for config in self.registry.models))
        self._statuses = {result.name: result for result in results}

    async def _discover(self) -> None:
        # Listing the models proves Ollama answers; asking each one "hi" would load every model into memory.
        began = time.monotonic()
        await self.registry.discover(min(self.timeout_s, OLLAMA_PROBE_TIMEOUT_S))
        latency, checked_at = round((time.monotonic() - began) * 1000), now_iso()
        self._discovered_at = checked_at
        self._statuses = {
            config.name: ModelStatus.of(config, "ok", latency_ms=latency, checked_at=checked_at)
            for config in self.registry.models
        }

    async def check_model(self, config: ModelConfig) -> ModelStatus:
        """Ask one model "hi" (3 tokens at most) within the time limit; never raises."""
        if not config.available or self.calls_disabled:
            return self.initial_status(config)
        began = time.monotonic()
        error = ""
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._say_hi(config)
        except LLMError as exc:
            error = str(exc)
            log.warning("health check of model %s failed: %s (%s)", config.name, exc.kind, exc.detail)
        except TimeoutError:
            limit = f"no reply to the health check within {self.timeout_s:g} s"
            error = f"{SENTENCES[FaultKind.TIMEOUT].rstrip('.')} ({limit})."
            log.warning("health check of model %s timed out after %g s", config.name, self.timeout_s)
        except Exception as exc:  # a provider bug must not stop the other checks or the loop
            error = UNEXPECTED
            log.warning("health check of model %s failed unexpectedly: %s", config.name, type(exc).__name__,
                        exc_info=True)
        latency = round((time.monotonic() - began) * 1000)
        return ModelStatus.of(config, "error" if error else "ok", error, latency_ms=latency, checked_at=now_iso())

    async def _say_hi(self, config: ModelConfig) -> None:
        stream = self.registry.provider(config.name).stream(hi_request())
        try:
            async for delta in stream:
                if isinstance(delta, StreamDone):
                    return
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        raise LLMError(FaultKind.INCOMPLETE, "the stream ended without StreamDone")

    def start(self) -> None:
        """Start the periodic checks (the first one right away) as a background task; needs a running loop."""
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self._run(), name="model health checks")

    async def _run(self) -> None:
        while True:
            try:
                await self.check_now()
            except Exception:  # keep checking: one bad round must not end the monitoring
                log.exception("model health check round failed")
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        """Cancel the periodic checks and any check under way."""
        for task in (self._loop_task, self._running):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop_task = self._running = None
