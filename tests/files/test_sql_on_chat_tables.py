"""The sql tool queries the tables of its chat's uploads with `database="chat"`, read-only, and no other's."""

from __future__ import annotations

import dataclasses

from galaxy_chat.files import Uploads
from galaxy_chat.settings import load_settings
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.vocabulary.widgets import Table
from tests.files.conftest import ADA, BOB
from tests.tool_doubles import make_context
from tools.base import ToolResult
from tools.sql_query import SQLQueryTool


async def ask(uploads: Uploads, owner: str, chat: str, query: str, database: str = "chat") -> ToolResult:
    settings = load_settings(env_file=None)
    tool = SQLQueryTool(settings)
    context = dataclasses.replace(make_context(settings, owner), files=uploads.for_chat(owner, chat))
    return await tool.run(tool.Params(query=query, database=database), context)


async def test_the_chats_tables_answer_queries(uploads: Uploads, chat: str) -> None:
    await uploads.accept(ADA, chat, "visits.csv", b"region,units\nEMEA,5\nAPAC,7\nEMEA,11\n")
    result = await ask(uploads, ADA, chat, "SELECT region, sum(units) AS units FROM visits GROUP BY region")
    assert not result.is_error, result.text
    [table] = [widget for widget in result.widgets if isinstance(widget, Table)]
    assert table.rows == [["APAC", 7], ["EMEA", 16]]
    refused = await ask(uploads, ADA, chat, "DELETE FROM visits")
    assert refused.is_error and "Only reading is allowed" in refused.text
    sample = await ask(uploads, ADA, chat, "SELECT count(*) FROM visits", database="sample")
    assert sample.is_error  # the sample database has no such table: the two never mix


async def test_a_chat_without_tables_and_another_persons_chat_say_so(uploads: Uploads, chat: str,
                                                                     store: SqlHistoryStore) -> None:
    await uploads.accept(ADA, chat, "orders.csv", b"region,units\nEMEA,5\n")
    bobs = await store.create_conversation(BOB)
    for owner, conversation in ((ADA, await store.create_conversation(ADA)), (BOB, bobs), (BOB, chat)):
        result = await ask(uploads, owner, conversation, "SELECT * FROM orders")
        assert result.is_error and "No table has been uploaded to this chat" in result.text
