"""`POST /ready/models/check`: re-check every model now (behind identity, like `/ready`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from galaxy_chat.llm.health import HealthMonitor


def models_router(monitor: HealthMonitor) -> APIRouter:
    router = APIRouter()

    @router.post("/ready/models/check")
    async def check_models() -> dict[str, Any]:
        return await monitor.check_now()

    return router
