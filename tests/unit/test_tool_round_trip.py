"""The engine with the real tools: the model asks for sql_query, the engine runs it against the real sample
database, sends the result back, and the final answer streams; the same with two calls in parallel."""

from __future__ import annotations

import json

from galaxy_chat.data.sample_database import ensure_sample_database
from galaxy_chat.settings import load_settings
from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from galaxy_chat.vocabulary.events import Done, TextDelta, ToolCallFinished, ToolCallStarted
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import Plot, Table
from tests.tool_doubles import make_context
from tools.tool_registry import ToolRegistry

REVENUE_SQL = "SELECT category, ROUND(SUM(revenue)) AS revenue FROM monthly_sales GROUP BY category ORDER BY 1"


def real_tools(tmp_path):
    settings = load_settings(env_file=None, data_dir=tmp_path / "data", log_dir=tmp_path / "logs")
    ensure_sample_database(settings.data_dir)
    return ToolRegistry.discover(settings).bind(make_context(settings))


async def test_sql_query_round_trip(make, tmp_path) -> None:
    rig = make(tools=real_tools(tmp_path))
    arguments = json.dumps({"query": REVENUE_SQL})
    rig.server.script(Reply(200, openai_tool_calls(("call_sql", "sql_query", [arguments[:20], arguments[20:]]))),
                      Reply(200, openai_text("Hardware", " sells most.")))
    events = await rig.collect(rig.conversation(), "Which category sells most?")
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert (started.name, json.loads(started.arguments)) == ("sql_query", {"query": REVENUE_SQL})
    assert not finished.is_error and "category" in finished.text and "revenue" in finished.text
    assert any(isinstance(w, Table) for w in finished.widgets) and any(isinstance(w, Plot) for w in finished.widgets)
    tool_message = rig.sent_messages(-1)[-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_sql"
    assert tool_message["content"] == finished.text  # the model reads exactly what the tool said
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hardware sells most."
    assert isinstance(events[-1], Done) and events[-1].rounds == 2


async def test_two_tool_calls_in_parallel(make, tmp_path) -> None:
    rig = make(tools=real_tools(tmp_path))
    rig.server.script(
        Reply(200, openai_tool_calls(
            ("call_a", "sql_query", [json.dumps({"query": "SELECT COUNT(*) AS n FROM users"})]),
            ("call_b", "calculator", ['{"expression": "200 / 8"}']),
        )),
        Reply(200, openai_text("200 users, 25 per team.")),
    )
    events = await rig.collect(rig.conversation(), "How many users, and per team of 8?")
    finished = {e.name: e for e in events if isinstance(e, ToolCallFinished)}
    assert set(finished) == {"sql_query", "calculator"}
    assert "200" in finished["sql_query"].text and finished["calculator"].text == "200 / 8 = 25"
    results = {m["tool_call_id"]: m["content"] for m in rig.sent_messages(-1) if m["role"] == "tool"}
    assert results == {"call_a": finished["sql_query"].text, "call_b": finished["calculator"].text}


async def test_a_refused_tool_call_is_reported_to_the_model(make, tmp_path) -> None:
    class NoSql:
        def tools_for(self, user: User, available):
            return [name for name in available if name != "sql_query"]

        def can_use(self, user: User, kind: str, name: str) -> bool:
            return name != "sql_query"

    settings = load_settings(env_file=None, data_dir=tmp_path / "data", log_dir=tmp_path / "logs")
    ensure_sample_database(settings.data_dir)
    context = make_context(settings)
    bound = ToolRegistry.discover(settings).bind(type(context)(context.user, "s", settings, NoSql()))
    rig = make(tools=bound)
    rig.server.script(Reply(200, openai_tool_calls(("c1", "sql_query", ['{"query": "SELECT * FROM users"}']))),
                      Reply(200, openai_text("I cannot access that.")))
    events = await rig.collect(rig.conversation(), "Dump the users")
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.is_error and finished.text == "The tool 'sql_query' is not available to you."
    assert "sql_query" not in [t["function"]["name"] for t in rig.server.requests[0].json()["tools"]]
    assert rig.sent_messages(-1)[-1]["content"] == finished.text
