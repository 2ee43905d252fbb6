"""Assembles the app: middleware, HTTP routes and pages, all on NiceGUI's FastAPI app.

Registration happens in a function (not at import) because NiceGUI's test plugins reset routes and
middleware between tests and re-run the main file.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from types import FrameType
from typing import Any

from nicegui import Client, app, ui

from access.policy import Policy
from galaxy_chat.llm.llms_file import LoadedModels
from galaxy_chat.observability import metrics, tracing
from galaxy_chat.observability.log_format import uvicorn_options
from galaxy_chat.observability.loop_lag import LoopLagTimer
from galaxy_chat.services import Services
from galaxy_chat.settings import Settings
from galaxy_chat.ui.admin_page import register_admin_page
from galaxy_chat.ui.chat_routes import register_chat_page
from galaxy_chat.web.admin_api import add_admin_routes
from galaxy_chat.web.commands_api import commands_router
from galaxy_chat.web.conversations_api import conversations_router
from galaxy_chat.web.data_api import data_router
from galaxy_chat.web.files_api import files_router
from galaxy_chat.web.http_metrics import HttpMetricsMiddleware
from galaxy_chat.web.identity import IdentityMiddleware
from galaxy_chat.web.mcp_endpoint import mount_mcp_endpoint
from galaxy_chat.web.metrics_api import add_metrics_route
from galaxy_chat.web.readiness import default_readiness, readiness_router
from galaxy_chat.web.sessions_api import sessions_router

log = logging.getLogger(__name__)


def build_app(settings: Settings, models: LoadedModels | None = None, policy: Policy | None = None) -> Services:
    """`models` and `policy` are the already loaded configuration (loaded from settings when None)."""
    services = Services.build(settings, models, policy)
    app.add_middleware(IdentityMiddleware, settings=settings)
    app.add_middleware(HttpMetricsMiddleware, routes=lambda: app.routes)  # outermost: refusals count too
    observe(services)
    readiness = default_readiness(settings)
    # Background health checks never delay start-up; their results appear in /ready.
    readiness.add("models", services.health.readiness_check)
    if warnings := services.tools.warnings():
        readiness.add("tools", lambda: {"ok": True, "warnings": warnings})
    # MCP servers connect in the background too; a failed one is shown, it never makes the app unready.
    readiness.add("mcp", lambda: {"ok": True, "servers": [state.to_dict() for state in services.mcp.states()]})
    readiness.add("coordinator", services.coordinator.state)  # `degraded: redis` while Redis is away; still ready
    readiness.add("drain", services.drain.state)  # not ready from the first moment of a stop
    app.on_startup(services.start_history)  # migrations (once across replicas), then the store and its writer
    app.on_startup(services.mcp.start)
    app.on_startup(services.health.start)
    app.on_startup(services.sessions.start)
    app.on_startup(services.coordinator.start)  # an unreachable Redis shows as degraded in /ready from the start
    app.on_shutdown(services.aclose)
    app.include_router(data_router(services.policy, services.data))  # GET /data, /data/{id}
    app.include_router(commands_router(services))  # POST /api/commands: a /command over HTTP
    app.include_router(sessions_router(services))
    app.include_router(conversations_router(services))
    app.include_router(files_router(services))  # POST /api/uploads/{chat}, GET /api/files/{id}
    add_admin_routes(app, services)  # GET /admin/usage.csv: admins only
    if settings.mcp_server_enabled:
        mount_mcp_endpoint(app, services)
    app.state.services = services  # for routes added by extensions, and for tests
    app.include_router(readiness_router(settings, readiness, services.health, lambda: services.drain.draining))
    add_metrics_route(app, settings, services.policy)  # GET /metrics: METRICS_TOKEN or an admin
    if settings.disable_websocket:
        log.info("DISABLE_WEBSOCKET is set: serving the HTTP API only, no chat page")
    else:
        register_chat_page(services)
        register_admin_page(services)  # /admin: the admins group only
    return services


def observe(services: Services) -> None:
    """Metrics read at scrape time, the event-loop lag timer, and traces when OTEL_* asks for them (the
    OpenTelemetry SDK reads those variables itself, so they are not Settings)."""
    metrics.watch_gauge(metrics.OPEN_PAGES, lambda: sum(1 for c in Client.instances.values()
                                                        if c.has_socket_connection))
    metrics.watch_gauge(metrics.LIVE_SESSIONS, lambda: len(services.sessions.sessions()))
    metrics.watch_gauge(metrics.COORDINATOR_DEGRADED, lambda: float(bool(services.coordinator.state()["degraded"])))
    timer = LoopLagTimer()
    app.on_startup(timer.start)
    app.on_shutdown(timer.stop)
    if tracing.configure(os.environ):
        app.on_shutdown(tracing.shutdown)


def run_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "title": settings.app_name,
        "dark": True,
        "reload": False,
        "show": False,
        "favicon": "💬",
        "reconnect_timeout": settings.reconnect_timeout_s,
        "uvicorn_logging_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": settings.shutdown_timeout_s,
        "show_welcome_message": False,
        "ws_per_message_deflate": settings.ws_compression,
        # The identity check needs the real TCP peer: uvicorn would otherwise take it from X-Forwarded-For
        # for loopback peers, and anything on this host could pose as the trusted proxy.
        "proxy_headers": False,
        # UnoCSS instead of the Tailwind runtime, same class names (Tailwind 3's): Tailwind's in-browser compiler
        # scanned every change of the page, a new turn cost the browser ~10 ms more before its first token.
        "unocss": "wind3",
        **uvicorn_options(settings.log_format),
    }


def freeze_startup_heap() -> None:
    """What exists once the app has started (modules, configuration, services) lives as long as the process:
    it is moved out of the garbage collector's sight, so a full collection, which stalls every stream while it
    runs, looks only at what came later (pages, sessions). Before, one took 100-200 ms with 10-30 tabs open."""
    gc.collect()
    gc.freeze()


def serve(settings: Settings, models: LoadedModels | None = None, policy: Policy | None = None) -> None:
    """Build the app and run it in this process until SIGINT/SIGTERM."""
    services = build_app(settings, models, policy)
    app.on_startup(lambda: drain_on_sigterm(services))  # uvicorn has installed its signal handlers by then
    app.on_startup(freeze_startup_heap)  # last: after the services have started
    ui.run(**run_options(settings))


def drain_on_sigterm(services: Services) -> None:
    """SIGTERM drains first (Services.drain: new messages refused, /ready 503, running replies finish within
    DRAIN_TIMEOUT_S), then hands the signal to uvicorn, which shuts down as before. A second SIGTERM, and
    SIGINT (Ctrl+C), stop at once."""
    uvicorn_handler = signal.getsignal(signal.SIGTERM)
    if not callable(uvicorn_handler):
        return
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def drain_then_stop() -> None:
        try:
            await services.drain.run()
        finally:
            uvicorn_handler(signal.SIGTERM, None)

    def start() -> None:
        task = loop.create_task(drain_then_stop(), name="drain")
        tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(tasks.discard)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if services.drain.draining:
            uvicorn_handler(sig, frame)
        else:
            services.drain.begin()  # at once: a second SIGTERM before the task runs stops, not drains twice
            loop.call_soon_threadsafe(start)

    signal.signal(signal.SIGTERM, on_sigterm)
