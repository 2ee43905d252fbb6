"""`user_lookup`: find people in the sample database's `users` table by part of their name or email."""

from __future__ import annotations

from pydantic import BaseModel, Field

from galaxy_chat.data.sample_database import sample_database_path
from galaxy_chat.data.sqlite_readonly import QueryError, run_query
from galaxy_chat.vocabulary.widgets import Button, Buttons, CallTool, Table
from tools.base import Tool, ToolContext, ToolResult
from tools.sql_query import DATA_SOURCE

COLUMNS = ["name", "email", "department", "title", "location", "manager"]
# The manager's name rather than an id: that is what a person asking "who is X's manager" wants to read.
LOOKUP_SQL = """
SELECT u.name, u.email, u.department, u.title, u.location, m.name
FROM users AS u LEFT JOIN users AS m ON m.id = u.manager_id
WHERE u.name LIKE ?1 ESCAPE '\\' OR u.email LIKE ?1 ESCAPE '\\'
ORDER BY u.name
"""
LIST_IN_TEXT = 10
BUTTONS = 4
ORDERS_SQL = (
    "SELECT o.order_date, p.name AS product, o.quantity, o.total, o.status FROM orders o "
    "JOIN products p ON p.id = o.product_id JOIN users u ON u.id = o.user_id "
    "WHERE u.email = '{email}' ORDER BY o.order_date DESC LIMIT 20"
)


def order_buttons(rows: list[tuple[object, ...]]) -> Buttons:
    """One button per person found: their latest orders, through the SQL tool (and its permission check)."""
    buttons = [
        Button(label=f"Orders of {name}", action=CallTool(
            tool="sql_query", arguments={"query": ORDERS_SQL.format(email=str(email).replace("'", "''"))}))
        for name, email, *_ in rows
    ]
    return Buttons(buttons=buttons)


class UserParams(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=200,
        description="Part of a person's name or email, any case, e.g. 'ali', 'Costa' or 'ben.lopez@'.",
    )
    limit: int = Field(25, ge=1, le=100, description="Most people to return.")


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own wildcards escaped, so '_' and '%' in the query match literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class UserLookupTool(Tool):
    name = "user_lookup"
    description = (
        "Find people in the company directory (the sample database's users table) by part of their name or "
        "email, case-insensitive. Returns name, email, department, title, location and manager."
    )
    Params = UserParams
    command = "user"
    command_help = "/user <part of a name or email> — look people up in the directory"

    async def run(self, args: UserParams, context: ToolContext) -> ToolResult:
        if not context.policy.can_use(context.user, "data_source", DATA_SOURCE):
            return ToolResult.error(f"You do not have access to the {DATA_SOURCE} database.")
        needle = " ".join(args.query.split())  # "  ali   costa " finds "Ali Costa"
        if not needle:
            return ToolResult.error("Give part of a name or email to look for.")
        try:
            # LIKE is case-insensitive for ASCII letters, which covers names and emails here.
            result = await run_query(
                sample_database_path(self.settings.data_dir),
                LOOKUP_SQL,
                (like_pattern(needle),),
                timeout_s=self.settings.query_timeout_s,
                row_limit=args.limit,
            )
        except QueryError as exc:
            return ToolResult.error(str(exc))
        if not result.rows:
            return ToolResult(text=f"No user matches '{needle}'. Try part of a first name, last name or email.")
        total = f"{result.total}" if result.total_exact else f"more than {result.total}"
        summary = f"{total} user{' matches' if total == '1' else 's match'} '{needle}'"
        if result.truncated:
            summary += f" (showing the first {len(result.rows)})"
        people = [f"{name} <{email}>, {title}, {department}, {location}" + (f", reports to {manager}" if manager
                  else "") for name, email, department, title, location, manager in result.rows[:LIST_IN_TEXT]]
        more = len(result.rows) - len(people)
        text = f"{summary}:\n" + "\n".join(f"- {person}" for person in people)
        if more:
            text += f"\n- … and {more} more in the table shown to the user"
        table = Table.capped(COLUMNS, [list(row) for row in result.rows], limit=args.limit, total=result.total)
        return ToolResult(text=text, widgets=[table, order_buttons(result.rows[:BUTTONS])])
