"""The SQL tools on a real sample database: answers, charts, and every way of writing or stalling refused."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from access.policy import AllowAll
from galaxy_chat.data.sqlite_readonly import QueryError, run_query, schema_text
from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import Markdown, Plot, Table
from tools.base import ToolContext, ToolResult
from tools.sql_query import SQLQueryTool
from tools.user_lookup import UserLookupTool


@pytest.fixture
def data_dir(clean_env: Path) -> Path:
    return clean_env / "data"  # DATA_DIR, holding a copy of the sample database (conftest.py)


def context_for(data_dir: Path, policy: object = None, **settings: object) -> ToolContext:
    loaded = load_settings(env_file=None, data_dir=data_dir, **settings)
    return ToolContext(User("tester@example.com"), "session-1", loaded, policy or AllowAll())  # type: ignore[arg-type]


async def sql(data_dir: Path, query: str, **settings: object) -> ToolResult:
    context = context_for(data_dir, **settings)
    tool = SQLQueryTool(context.settings)
    return await tool.run(tool.Params(query=query), context)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def widgets_of(result: ToolResult, kind: type) -> list:
    return [widget for widget in result.widgets if isinstance(widget, kind)]


async def test_monthly_revenue_gives_a_table_and_a_line_chart(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT month, round(sum(revenue), 2) AS revenue FROM monthly_sales GROUP BY month")
    assert not result.is_error, result.text
    [table] = widgets_of(result, Table)
    assert table.columns == ["month", "revenue"]
    assert len(table.rows) == 24 and table.note == ""
    assert table.rows[0][0] == "2023-01" and table.rows[-1][0] == "2024-12"
    [plot] = widgets_of(result, Plot)
    [trace] = plot.figure["data"]
    assert trace["type"] == "scatter" and "lines" in trace["mode"]
    assert trace["x"][0] == "2023-01" and len(trace["y"]) == 24
    assert plot.figure["layout"]["template"]["layout"]["paper_bgcolor"] != "white"  # the dark template
    assert result.text.startswith("month | revenue\n2023-01 | ")
    assert result.text.endswith("(24 rows)\n(The user also sees a chart: revenue by month.)")


async def test_people_per_department_gives_a_bar_chart(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT department, count(*) AS people FROM users GROUP BY department")
    [plot] = widgets_of(result, Plot)
    [trace] = plot.figure["data"]
    assert trace["type"] == "bar"
    assert dict(zip(trace["x"], trace["y"], strict=True))["Engineering"] == 60
    assert sum(trace["y"]) == 200


async def test_month_region_revenue_gives_one_line_per_region(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT month, region, sum(revenue) FROM monthly_sales GROUP BY 1, 2 ORDER BY 2, 1")
    [plot] = widgets_of(result, Plot)
    assert sorted(trace["name"] for trace in plot.figure["data"]) == ["APAC", "Americas", "EMEA"]
    assert all(len(trace["x"]) == 24 for trace in plot.figure["data"])


async def test_rows_that_are_not_a_series_get_no_chart(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT name, email, department FROM users ORDER BY id LIMIT 5")
    assert widgets_of(result, Plot) == []
    [table] = widgets_of(result, Table)
    assert table.rows[0][:2] == ["Morgan Reyes", "morgan.reyes@galaxy.example"]


async def test_large_result_is_capped_with_an_honest_note(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT * FROM orders", sql_row_limit=50)
    [table] = widgets_of(result, Table)
    assert len(table.rows) == 50 and table.total_rows == 2000
    assert table.note == "showing 50 of 2000 rows"
    assert "2,000 rows; only the first 50 were returned" in result.text
    assert len(result.text) < 4_500  # the model gets a sample, not the whole table


async def test_a_result_too_big_to_count_says_more_than(data_dir: Path) -> None:
    result = await sql(data_dir, "SELECT a.id, b.id FROM orders a, orders b", sql_row_limit=20)
    assert not result.is_error
    [note] = widgets_of(result, Markdown)
    assert note.text.startswith("The result has more than ")
    assert "more than" in result.text


async def test_empty_result_and_bad_sql_are_explained(data_dir: Path) -> None:
    empty = await sql(data_dir, "SELECT name FROM users WHERE id < 0")
    assert not empty.is_error and empty.text == "No rows. Columns: name"
    wrong = await sql(data_dir, "SELECT nope FROM users")
    assert wrong.is_error and "no such column: nope" in wrong.text
    typo = await sql(data_dir, "SELEC 1")
    assert typo.is_error and "syntax error" in typo.text


REFUSED = [
    ("INSERT INTO users (name, email) VALUES ('x', 'x@y.z')", "INSERT was refused"),
    ("UPDATE users SET name = 'x'", "UPDATE was refused"),
    ("DELETE FROM orders", "DELETE was refused"),
    ("DROP TABLE users", "DROP TABLE was refused"),
    ("CREATE TEMP TABLE t AS SELECT * FROM users", "CREATE TEMP TABLE was refused"),
    ("CREATE TABLE t (x)", "CREATE TABLE was refused"),
    ("ATTACH DATABASE 'evil.db' AS evil", "ATTACH was refused"),
    ("SELECT 1; DELETE FROM users", "Only one SQL statement"),
    ("SELECT 1; SELECT 2", "Only one SQL statement"),
    ("PRAGMA writable_schema=ON", "PRAGMA writable_schema=ON was refused"),
    ("PRAGMA query_only=OFF", "PRAGMA query_only=OFF was refused"),
    ("SELECT load_extension('/tmp/evil.so')", "load_extension() is not allowed"),
    ("SELECT printf('%.*c', 900000000, 'x')", "printf() is not allowed"),
    ("SELECT length(zeroblob(900000000))", "zeroblob() is not allowed"),
    ("VACUUM INTO 'copy.db'", "VACUUM was refused"),
    ("BEGIN", "BEGIN was refused"),
    ("WITH x AS (SELECT 1) INSERT INTO products SELECT * FROM products", "INSERT was refused"),
    ("SELECT * FROM json_each('[1]')", "Table-valued functions"),
]


@pytest.mark.parametrize(("query", "message"), REFUSED, ids=[query[:30] for query, _ in REFUSED])
async def test_writes_and_dangerous_statements_are_refused(data_dir: Path, query: str, message: str) -> None:
    database = data_dir / "sample.db"
    before, files = sha256(database), sorted(data_dir.iterdir())
    started = time.monotonic()
    result = await sql(data_dir, query)
    assert result.is_error
    assert message in result.text
    assert time.monotonic() - started < 1
    assert sha256(database) == before
    assert sorted(data_dir.iterdir()) == files  # no journal, copy or attached file appeared


STALLING = [
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT count(*) FROM orders a, orders b, orders c",
    "SELECT a.id FROM orders a, orders b, users c ORDER BY a.total * b.total DESC LIMIT 1",
]


@pytest.mark.parametrize("query", STALLING, ids=["recursive-cte", "cross-join", "sorted-cross-join"])
async def test_runaway_queries_stop_at_the_deadline(data_dir: Path, query: str) -> None:
    before = sha256(data_dir / "sample.db")
    started = time.monotonic()
    result = await sql(data_dir, query, query_timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert result.is_error
    assert result.text == "The query took longer than 1 s and was stopped."
    assert 0.9 < elapsed < 2
    assert sha256(data_dir / "sample.db") == before


async def test_growing_strings_hit_the_length_limit_fast(data_dir: Path) -> None:
    started = time.monotonic()
    result = await sql(data_dir, "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) "
                                 "SELECT length(s) FROM r")
    assert result.is_error and "grew too large" in result.text
    assert time.monotonic() - started < 1


def query_threads() -> list[threading.Thread]:
    """Threads currently inside the query runner."""
    frames = sys._current_frames()
    busy = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or -1)
        while frame is not None and not frame.f_code.co_filename.endswith("sqlite_readonly.py"):
            frame = frame.f_back
        if frame is not None:
            busy.append(thread)
    return busy


async def test_cancelling_the_call_stops_the_query_thread(data_dir: Path) -> None:
    query = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    task = asyncio.create_task(run_query(data_dir / "sample.db", query, timeout_s=60, row_limit=10))
    await asyncio.sleep(0.3)
    assert query_threads()  # the query really runs in a worker thread
    task.cancel()  # what the Stop button and the registry's timeout do
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    while query_threads():
        assert time.monotonic() - started < 1, "the query kept running after its caller was cancelled"
        await asyncio.sleep(0.02)


async def test_schema_is_described_for_the_model(data_dir: Path) -> None:
    text = schema_text(data_dir / "sample.db")
    for expected in ("users (200 rows)", "orders (2000 rows)", "monthly_sales (360 rows)",
                     "manager_id INTEGER -> users.id", "region TEXT ('APAC', 'Americas', 'EMEA')",
                     "month TEXT [YYYY-MM] (2023-01 .. 2024-12)", "revenue REAL [completed orders only, USD]"):
        assert expected in text
    tool = SQLQueryTool(context_for(data_dir).settings)
    assert tool.command == "sql"
    assert "product_id INTEGER -> products.id" in tool.spec().description


async def test_missing_database_is_an_error_result_not_an_exception(tmp_path: Path) -> None:
    result = await sql(tmp_path / "empty", "SELECT 1")
    assert result.is_error and "does not exist" in result.text
    with pytest.raises(QueryError):
        schema_text(tmp_path / "nothing.db")


class DenyData(AllowAll):
    def can_use(self, user: User, kind: str, name: str) -> bool:
        return kind != "data_source"


async def test_policy_can_withhold_the_database(data_dir: Path) -> None:
    context = context_for(data_dir, policy=DenyData())
    for tool, params in ((SQLQueryTool(context.settings), {"query": "SELECT 1"}),
                         (UserLookupTool(context.settings), {"query": "ali"})):
        result = await tool.run(tool.Params(**params), context)
        assert result.is_error and "do not have access" in result.text


async def lookup(data_dir: Path, query: str, **params: object) -> ToolResult:
    context = context_for(data_dir)
    tool = UserLookupTool(context.settings)
    return await tool.run(tool.Params(query=query, **params), context)


def directory(data_dir: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(data_dir / "sample.db")) as connection:
        return connection.execute("SELECT name, email FROM users").fetchall()


async def test_user_lookup_is_partial_and_case_insensitive(data_dir: Path) -> None:
    expected = sorted(name for name, email in directory(data_dir) if "ali" in name.lower() or "ali" in email)
    assert len(expected) >= 3  # Ali, Alice, Alicia, Natalia ... in the sample data
    results = [await lookup(data_dir, text) for text in ("ali", "ALI", "  aLi ")]
    for result in results:
        [table] = widgets_of(result, Table)
        assert [row[0] for row in table.rows] == expected
        assert table.columns == ["name", "email", "department", "title", "location", "manager"]
    assert results[0].text.startswith(f"{len(expected)} users match 'ali':\n- {expected[0]} <")


async def test_user_lookup_by_email_shows_title_and_manager(data_dir: Path) -> None:
    ceo = await lookup(data_dir, "MORGAN.REYES@galaxy")
    [table] = widgets_of(ceo, Table)
    assert table.rows == [["Morgan Reyes", "morgan.reyes@galaxy.example", "Executive", "Chief Executive Officer",
                           "New York", None]]
    assert ceo.text == ("1 user matches 'MORGAN.REYES@galaxy':\n"
                        "- Morgan Reyes <morgan.reyes@galaxy.example>, Chief Executive Officer, Executive, New York")
    head = await lookup(data_dir, "Head of")  # titles are not searched: nobody is called "Head of"
    assert "No user matches" in head.text
    report = widgets_of(await lookup(data_dir, "chen.novak@"), Table)[0]
    assert report.rows[0][3:] == ["Head of Engineering", "New York", "Morgan Reyes"]


async def test_user_lookup_without_match_is_friendly_and_wildcards_are_literal(data_dir: Path) -> None:
    for text in ("zzz-nobody", "%", "_", "a%e"):
        result = await lookup(data_dir, text)
        assert not result.is_error and result.widgets == []
        assert result.text == f"No user matches '{text}'. Try part of a first name, last name or email."


async def test_user_lookup_caps_long_lists(data_dir: Path) -> None:
    total = sum("a" in name.lower() or "a" in email for name, email in directory(data_dir))
    result = await lookup(data_dir, "a", limit=5)
    [table] = widgets_of(result, Table)
    assert len(table.rows) == 5 and table.note == f"showing 5 of {total} rows"
    assert result.text.startswith(f"{total} users match 'a' (showing the first 5):")
