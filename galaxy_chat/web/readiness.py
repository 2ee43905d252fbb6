"""Liveness (`/health`, public, no details), readiness (`/ready`, JSON, behind identity) and
`POST /ready/models/check` (re-check every model now, behind identity)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.settings import Settings

CheckResult = dict[str, Any]  # must hold "ok": bool; other keys are shown as they are (never secrets)


@dataclass
class Readiness:
    """Named readiness checks; later parts of the app (LLM status, sandbox) register their own."""

    checks: dict[str, Callable[[], CheckResult]] = field(default_factory=dict)

    def add(self, name: str, check: Callable[[], CheckResult]) -> None:
        self.checks[name] = check

    def report(self) -> tuple[bool, dict[str, CheckResult]]:
        results: dict[str, CheckResult] = {}
        for name, check in self.checks.items():
            try:
                results[name] = check()
            except Exception as exc:  # a broken check must not break /ready itself
                results[name] = {"ok": False, "error": type(exc).__name__}
        return all(result.get("ok") for result in results.values()), results


def writable_folder(path: Path) -> Callable[[], CheckResult]:
    def check() -> CheckResult:
        ok = path.is_dir() and os.access(path, os.W_OK)
        return {"ok": ok} if ok else {"ok": False, "error": f"folder {path} is missing or not writable"}

    return check


def default_readiness(settings: Settings) -> Readiness:
    readiness = Readiness()
    readiness.add("log_dir", writable_folder(settings.log_dir))
    readiness.add("data_dir", writable_folder(settings.data_dir))
    return readiness


def readiness_router(settings: Settings, readiness: Readiness, monitor: HealthMonitor,
                     draining: Callable[[], bool] = lambda: False) -> APIRouter:
    """`draining`: the server is stopping (503 \"draining\", so load balancers send no new tabs here)."""
    router = APIRouter()

    @router.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        ok, results = readiness.report()
        status = "draining" if draining() else "ready" if ok else "not ready"
        body = {"status": status, "app": settings.app_name, "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.post("/ready/models/check")
    async def check_models() -> dict[str, Any]:
        return await monitor.check_now()

    return router
