"""The admin's HTTP side: the usage periods the admin page offers, its tables as rows, and
`GET /admin/usage.csv?days=7&table=model` (admins only: 403 for anyone else, 401 without identity as
everywhere). Usage comes from the history store's aggregate queries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from access.policy import is_admin
from galaxy_chat.services import Services
from galaxy_chat.store.usage import UsageReport
from galaxy_chat.web.identity import current_user

PERIODS = {1: "last 24 hours", 7: "last 7 days", 30: "last 30 days", 365: "last year"}
TABLES = {  # table -> (column titles, UsageReport attribute)
    "model": (["model", "replies", "input tokens", "output tokens"], "by_model"),
    "user": (["user", "replies", "input tokens", "output tokens"], "by_user"),
    "tool": (["tool", "calls", "errors"], "by_tool"),
    "errors": (["kind", "count"], "errors"),
    "day": (["day", "model", "replies", "input tokens", "output tokens"], "by_day"),
}


def period(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period ending now (one of PERIODS; anything else is the last 7 days)."""
    end = now or datetime.now(UTC)
    return end - timedelta(days=days if days in PERIODS else 7), end


def _cell(value: str | int) -> str | int:
    """A text cell a spreadsheet would run as a formula (=, +, -, @) is quoted."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def table_rows(report: UsageReport, table: str) -> tuple[list[str], list[list[str | int]]]:
    """Column titles and rows of one usage table, as the page shows it and the CSV holds it."""
    titles, attribute = TABLES[table]
    rows: list[list[str | int]] = []
    for row in getattr(report, attribute):
        if table == "tool":
            rows.append([row.key, row.count, row.errors])
        elif table == "errors":
            rows.append([row.key, row.count])
        elif table == "day":
            rows.append([row.key, row.model, row.count, row.input_tokens, row.output_tokens])
        else:
            rows.append([row.key, row.count, row.input_tokens, row.output_tokens])
    return titles, rows


def add_admin_routes(app: FastAPI, services: Services) -> None:
    """Routes of the app itself, not an included router: each include nests FastAPI's lifespan once more."""

    async def usage_csv(request: Request, days: int = 7, table: str = "model") -> Response:
        if not is_admin(services.policy, current_user(request)):
            return JSONResponse({"detail": "Only admins may export usage."}, status_code=403)
        if table not in TABLES:
            return JSONResponse({"detail": f"table must be one of {', '.join(TABLES)}"}, status_code=400)
        history = await services.opened_history()
        if history is None:
            return JSONResponse({"detail": "The history store is not available."}, status_code=503)
        since, until = period(days)
        titles, rows = table_rows(await history.usage(since, until), table)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(titles)
        writer.writerows([[_cell(value) for value in row] for row in rows])
        name = f"usage-{table}-{since:%Y%m%d}-{until:%Y%m%d}.csv"
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    app.add_api_route("/admin/usage.csv", usage_csv, methods=["GET"], include_in_schema=False)
