"""`sql_query`: one read-only SELECT over the sample database, shown as a table and, when it fits, a chart."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from galaxy_chat.data.sample_database import sample_database_path
from galaxy_chat.data.sqlite_readonly import DATE_LIKE, QueryError, QueryResult, run_query, schema_text
from galaxy_chat.vocabulary.tool_calls import ToolSpec
from galaxy_chat.vocabulary.widgets import Markdown, Plot, Table, Widget
from tools.base import Tool, ToolContext, ToolResult

if TYPE_CHECKING:
    from galaxy_chat.settings import Settings

DATA_SOURCE = "sample"  # the name the access policy knows this database by
TEXT_LIMIT = 4_000  # characters of rows sent back to the model; the person sees the full table
CELL_LIMIT = 200
MAX_SERIES = 8
MAX_BARS = 100

BASE_DESCRIPTION = (
    "Run one read-only SQLite SELECT on the sample company database and show the result as a table "
    "(and a chart when the result is a label column plus number columns, e.g. month + revenue). "
    "Only reading is allowed; one statement, no ';' chains. Aggregate in SQL (GROUP BY, sum, count) "
    "rather than fetching many rows. Tables:\n"
)


class SQLParams(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=10_000,
        description="Exactly one SQLite SELECT statement (WITH ... SELECT and PRAGMA table_info(name) work too).",
    )


def cell_text(value: Any) -> str:
    """A value as compact text for the model: NULL, numbers without noise, long text cut."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, float):
        return f"{value:.10g}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def table_cell(value: Any) -> Any:
    # Blobs would be logged as base64 noise; the person only needs to know one is there.
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else value


def count_text(result: QueryResult) -> str:
    shown, total = len(result.rows), result.total
    if not result.truncated:
        return f"{total} row{'s' if total != 1 else ''}"
    if result.total_exact:
        return f"{total:,} rows; only the first {shown:,} were returned"
    return f"more than {total:,} rows; only the first {shown:,} were returned"


def result_text(result: QueryResult) -> str:
    """Column names and the first rows, capped at TEXT_LIMIT characters, then the row count."""
    lines = [" | ".join(result.columns)]
    size = len(lines[0])
    for index, row in enumerate(result.rows):
        line = " | ".join(cell_text(value) for value in row)
        if size + len(line) > TEXT_LIMIT:
            lines.append(f"… ({len(result.rows) - index} more rows are in the table shown to the user)")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + f"\n({count_text(result)})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _series(columns: list[str], rows: list[tuple[Any, ...]]) -> dict[str, tuple[list[Any], list[Any]]] | None:
    """{series name: (labels, values)} when the rows look like a label + number series, else None."""
    if len(rows) < 2 or len(columns) < 2 or not all(isinstance(row[0], str) for row in rows):
        return None
    numeric = [i for i in range(1, len(columns)) if all(_is_number(r[i]) or r[i] is None for r in rows)]
    if numeric == list(range(1, len(columns))) and len(numeric) <= MAX_SERIES:
        # Wide form: label, number, number, ...: one series per number column.
        return {columns[i]: ([r[0] for r in rows], [r[i] for r in rows]) for i in numeric}
    if len(columns) == 3 and numeric == [2] and all(isinstance(r[1], str) for r in rows):
        # Long form: label, group, number (e.g. month, region, revenue): one series per group.
        groups: dict[str, tuple[list[Any], list[Any]]] = {}
        for label, group, value in rows:
            groups.setdefault(group, ([], []))
            groups[group][0].append(label)
            groups[group][1].append(value)
        return groups if len(groups) <= MAX_SERIES else None
    return None


def chart_for(columns: list[str], rows: list[tuple[Any, ...]]) -> Plot | None:
    """A line chart over dates/months, a bar chart over other labels, or None when no chart fits."""
    series = _series(columns, rows)
    if series is None:
        return None
    over_time = all(DATE_LIKE.match(row[0]) for row in rows)
    if not over_time and len({row[0] for row in rows}) > MAX_BARS:
        return None  # a hundred bars or more is a barcode, not a chart
    import plotly.graph_objects as go  # imported here: plotly costs ~0.3 s and many queries need no chart

    figure = go.Figure()
    for name, (labels, values) in series.items():
        if over_time:
            points = sorted(zip(labels, values, strict=True))  # queries often forget ORDER BY
            figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name=name,
                                        mode="lines+markers"))
        else:
            figure.add_trace(go.Bar(x=labels, y=values, name=name))
    value_name = columns[-1] if len(series) > 1 and len(columns) == 3 else ", ".join(series)
    figure.update_layout(
        template="plotly_dark",
        title=f"{value_name} by {columns[0]}",
        xaxis_title=columns[0],
        yaxis_title=value_name,
        barmode="group",
        showlegend=len(series) > 1,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return Plot.from_figure(figure)


class SQLQueryTool(Tool):
    name = "sql_query"
    description = BASE_DESCRIPTION + "(schema read when the tool starts)"
    Params = SQLParams
    command = "sql"
    command_help = "/sql <SELECT …> — query the sample database (read-only)"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.schema = ""
        self._read_schema()

    def _read_schema(self) -> None:
        # The schema in the description lets the model write correct SQL on its first try.
        try:
            self.schema = schema_text(sample_database_path(self.settings.data_dir))
        except (QueryError, OSError, sqlite3.Error) as exc:
            self.description = BASE_DESCRIPTION + f"(not readable yet: {exc} Use PRAGMA table_info(name).)"
            return
        self.description = BASE_DESCRIPTION + self.schema

    def spec(self) -> ToolSpec:
        if not self.schema:  # the database may have been created after this tool
            self._read_schema()
        return super().spec()

    async def run(self, args: SQLParams, context: ToolContext) -> ToolResult:
        if not context.policy.can_use(context.user, "data_source", DATA_SOURCE):
            return ToolResult.error(f"You do not have access to the {DATA_SOURCE} database.")
        try:
            result = await run_query(
                sample_database_path(self.settings.data_dir),
                args.query,
                timeout_s=self.settings.query_timeout_s,
                row_limit=self.settings.sql_row_limit,
            )
        except QueryError as exc:
            return ToolResult.error(str(exc))
        rows = [[table_cell(value) for value in row] for row in result.rows]
        widgets: list[Widget] = [
            Table.capped(result.columns, rows, limit=max(len(rows), 1), total=result.total)
        ]
        if not result.total_exact:
            widgets.append(Markdown(text=f"The result has more than {result.total:,} rows (counting stopped "
                                         f"there); the table shows the first {len(rows):,}."))
        text = result_text(result) if result.rows else f"No rows. Columns: {', '.join(result.columns)}"
        if not result.truncated and (plot := chart_for(result.columns, result.rows)) is not None:
            widgets.append(plot)  # only for complete results: a chart of a cut-off result would mislead
            text += f"\n(The user also sees a chart: {plot.figure['layout']['title']['text']}.)"
        return ToolResult(text=text, widgets=widgets, detail=f"{result.elapsed_s:.3f} s")
