"""`/admin`: for members of the `admins` group only (403 for anyone else, 401 without identity as everywhere).

Models with their health, MCP servers with their state, this replica's live figures (from the metrics
registry), usage over a chosen period (aggregate SQL over the history: charts, tables and CSV exports) and
people's feedback. Feedback points to its conversation only when that chat is the admin's own: feedback
records carry no consent to show another person's chat, so the page shows the rating and comment alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import HTMLResponse

from access.policy import is_admin
from galaxy_chat.observability import metrics
from galaxy_chat.services import Services
from galaxy_chat.store.usage import UsageReport
from galaxy_chat.ui.marks import testid
from galaxy_chat.ui.nicegui_internals import page_prefix
from galaxy_chat.vocabulary.users import User
from galaxy_chat.web.admin_api import PERIODS, TABLES, period, table_rows
from galaxy_chat.web.identity import current_user

log = logging.getLogger(__name__)
FEEDBACK_SHOWN = 200
CHART = {"template": "plotly_dark", "margin": {"l": 40, "r": 10, "t": 30, "b": 40}, "height": 280,
         "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "barmode": "stack"}
FORBIDDEN_PAGE = ("<!doctype html><html><head><meta charset='utf-8'><title>403 Forbidden</title></head>"
                  "<body style='font-family:sans-serif;background:#121212;color:#eee;padding:2em'>"
                  "<h1>Forbidden</h1><p>The admin page is for the admins group. <a href='./' style='color:#90caf9'>"
                  "Back to the chat</a></p></body></html>")


def admin_link(services: Services, user: User) -> None:
    """The header's link to /admin, for admins only (absolute, under the page's prefix: chats live at /c/<id>)."""
    if is_admin(services.policy, user):
        button = testid(ui.button(icon="admin_panel_settings").props("flat round dense"), "admin-link")
        button.props["href"] = page_prefix(ui.context.client.request) + "/admin"
        button.props["title"] = "Admin"


def _table(rows: list[dict[str, Any]], columns: list[str], mark: str) -> ui.table:
    cols = [{"name": c, "label": c, "field": c, "sortable": True, "align": "left"} for c in columns]
    return testid(ui.table(columns=cols, rows=rows, row_key=columns[0]).props("dense flat").classes("w-full"), mark)


def _rows(titles: list[str], values: list[list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(titles, row, strict=True)) for row in values]


def _figure(traces: list[dict[str, Any]], title: str) -> dict[str, Any]:
    return {"data": traces, "layout": {**CHART, "title": {"text": title, "font": {"size": 14}}}}


def usage_figures(report: UsageReport) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replies per day by model, and tokens by model (in and out)."""
    per_model: dict[str, dict[str, int]] = defaultdict(dict)
    for row in report.by_day:
        per_model[row.model or "(none)"][row.key] = row.count
    replies = [{"type": "bar", "name": model, "x": list(days), "y": list(days.values())}
               for model, days in per_model.items()]
    names = [row.key or "(none)" for row in report.by_model]
    tokens = [{"type": "bar", "name": "input", "x": names, "y": [row.input_tokens for row in report.by_model]},
              {"type": "bar", "name": "output", "x": names, "y": [row.output_tokens for row in report.by_model]}]
    return _figure(replies, "Replies per day"), _figure(tokens, "Tokens by model")


def feedback_figure(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Thumbs up and down per day, and the mean 1-5 rating per day."""
    ups: dict[str, int] = defaultdict(int)
    downs: dict[str, int] = defaultdict(int)
    stars: dict[str, list[int]] = defaultdict(list)
    for record in records:
        day = str(record.get("time", ""))[:10]
        if record.get("type") == "message":
            (ups if record.get("rating") == "up" else downs)[day] += 1
        elif isinstance(record.get("rating"), int):
            stars[day].append(record["rating"])
    traces = [
        {"type": "bar", "name": "👍", "x": list(ups), "y": list(ups.values())},
        {"type": "bar", "name": "👎", "x": list(downs), "y": list(downs.values())},
        {"type": "scatter", "mode": "lines+markers", "name": "rating (1-5)", "yaxis": "y2",
         "x": list(stars), "y": [sum(v) / len(v) for v in stars.values()]},
    ]
    figure = _figure(traces, "Feedback over time")
    figure["layout"]["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, 5.5]}
    return figure


class AdminPage:
    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user
        self.days = 7
        with ui.header(elevated=True).classes("items-center gap-2 px-3 py-1 bg-grey-10"):
            ui.label(f"{services.settings.app_name} — admin").classes("text-h6").mark("admin-title")
            ui.space()
            ui.label(user.email).classes("text-body2 gt-xs")
            ui.button("Chat", icon="chat").props("flat dense href=./")
        with ui.column().classes("w-full max-w-6xl mx-auto p-3 gap-4"):
            self.replica()
            self.models()
            self.mcp_servers()
            with ui.card().classes("w-full"):
                with ui.row().classes("items-center w-full"):
                    ui.label("Usage").classes("text-h6")
                    ui.space()
                    testid(ui.select(PERIODS, value=self.days, on_change=self.on_period).props("dense outlined"),
                           "admin-period")
                self.usage_box = ui.column().classes("w-full")
            with ui.card().classes("w-full"):
                ui.label("Feedback").classes("text-h6")
                self.feedback_box = ui.column().classes("w-full")

    def replica(self) -> None:
        sample = metrics.registry.get_sample_value
        figures = {
            "live sessions": sample("galaxy_chat_live_sessions"), "open pages": sample("galaxy_chat_open_pages"),
            "WebSocket connections": sample("galaxy_chat_websocket_connections"),
        }
        since_start = defaultdict(float)
        for family in metrics.REPLIES_ENDED.collect():
            for s in family.samples:
                if s.name.endswith("_total"):
                    since_start[s.labels["outcome"]] += s.value
        with ui.card().classes("w-full"):
            ui.label("This replica").classes("text-h6")
            with testid(ui.row().classes("gap-6"), "admin-replica"):
                for label, value in {**figures, **{f"replies {k}": v for k, v in since_start.items()}}.items():
                    with ui.column().classes("gap-0"):
                        ui.label(f"{int(value or 0)}").classes("text-h5")
                        ui.label(label).classes("text-caption text-grey-5")

    def models(self) -> None:
        rows = [{"model": name, "status": s.get("status", ""), "latency ms": s.get("latency_ms") or "",
                 "checked": s.get("checked_at") or "", "error": s.get("error") or ""}
                for name, s in self.services.health.statuses().items()]
        with ui.card().classes("w-full"):
            ui.label("Models").classes("text-h6")
            _table(rows, ["model", "status", "latency ms", "checked", "error"], "admin-models")

    def mcp_servers(self) -> None:
        rows = [{"server": s.server_id, "status": s.status, "tools": s.tool_count, "reason": s.reason or ""}
                for s in self.services.mcp.states()]
        with ui.card().classes("w-full"):
            ui.label("MCP servers").classes("text-h6")
            if rows:
                _table(rows, ["server", "status", "tools", "reason"], "admin-mcp")
            else:
                ui.label("No MCP servers are configured.").classes("text-grey-5").mark("admin-mcp")

    async def on_period(self, event: Any) -> None:
        self.days = int(event.value)
        await self.show_usage()

    async def show_usage(self) -> None:
        self.usage_box.clear()
        history = await self.services.opened_history()
        with self.usage_box:
            if history is None:
                ui.label("The history store is not available, so there is no usage to show.").classes("text-grey-5")
                return
            try:
                report = await history.usage(*period(self.days))
            except Exception:  # the database may be away: say so, the rest of the page stays
                log.warning("admin page: usage query failed", exc_info=True)
                ui.label("The history store did not answer; try again in a moment.").classes("text-negative")
                return
            with ui.row().classes("w-full no-wrap gap-2 max-md:flex-wrap"):
                for figure in usage_figures(report):
                    ui.plotly(figure).classes("w-full md:w-1/2")
            for table in TABLES:
                titles, values = table_rows(report, table)
                with ui.row().classes("items-center w-full mt-2"):
                    ui.label(f"By {table}" if table != "errors" else "Errors").classes("text-subtitle1")
                    ui.space()
                    ui.link("CSV", f"admin/usage.csv?days={self.days}&table={table}").mark(f"admin-csv-{table}")
                _table(_rows(titles, values), titles, f"admin-usage-{table}")

    async def show_feedback(self) -> None:
        records = await self.services.feedback.recent(FEEDBACK_SHOWN)
        own = {s.id for s in self.services.sessions.sessions() if s.user.email == self.user.email}
        history = self.services.history
        rows = []
        for record in reversed(records):
            session = str(record.get("session") or "")
            mine = record.get("user") == self.user.email and session
            if mine and session not in own and history is not None:
                mine = await history.meta(self.user.email, session) is not None
            rows.append({"time": str(record.get("time", ""))[:19], "user": record.get("user", ""),
                         "kind": record.get("type", ""), "rating": str(record.get("rating", "")),
                         "model": record.get("model") or "", "comment": record.get("text") or "",
                         "chat": f"c/{session}" if mine else ""})
        with self.feedback_box:
            if not rows:
                ui.label("No feedback yet.").classes("text-grey-5").mark("admin-feedback")
                return
            ui.plotly(feedback_figure(records)).classes("w-full")
            table = _table(rows, ["time", "user", "kind", "rating", "model", "comment", "chat"], "admin-feedback")
            table.add_slot("body-cell-chat", '<q-td :props="props"><a v-if="props.value" :href="props.value" '
                           'style="color:#90caf9">open</a></q-td>')


def register_admin_page(services: Services) -> None:
    @ui.page("/admin", title=f"{services.settings.app_name} — admin")
    async def admin_page(request: Request) -> HTMLResponse | None:
        user = current_user(request)
        if not is_admin(services.policy, user):
            log.info("admin page refused to %s", user.email)
            return HTMLResponse(FORBIDDEN_PAGE, status_code=403)
        log.info("admin page opened by %s", user.email)
        await services.opened_history()
        page = AdminPage(services, user)
        await page.show_usage()
        await page.show_feedback()
        return None
