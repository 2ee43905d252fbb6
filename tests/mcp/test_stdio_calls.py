"""Calls over one lasting stdio connection to the SDK test server: results, progress, logs, elicitation, Stop."""

from __future__ import annotations

import asyncio
import json

from galaxy_chat.mcp import ServerState
from galaxy_chat.vocabulary.widgets import File, Image, Markdown, Plot, Table
from tests.mcp.servers import running, stdio_config


async def test_results_become_text_and_widgets() -> None:
    async with running(stdio_config()) as mcp:
        state = mcp.state("t")
        assert state.status == "connected", state.reason
        ready = json.loads(json.dumps(state.to_dict()))  # what /ready shows
        assert ready["status"] == "connected" and ready["tool_count"] == len(ready["tools"]) == state.tool_count
        assert {"t__echo", "t__sales", "t__ask"} <= {tool.qualified_name for tool in mcp.offered_tools()}
        echo = await mcp.call("t", "echo", {"text": "hello"})
        assert (echo.text, echo.is_error, echo.widgets) == ("hello", False, [])

        sales = await mcp.call("t", "sales", {"months": 4})
        table = next(w for w in sales.widgets if isinstance(w, Table))
        assert table.columns == ["month", "revenue"] and table.total_rows == 4
        assert any(isinstance(w, Plot) for w in sales.widgets)  # month + revenue is a series: a chart too

        nested = await mcp.call("t", "settings")
        assert isinstance(nested.widgets[0], Markdown) and '"tags"' in nested.widgets[0].text

        image = await mcp.call("t", "image")
        assert isinstance(image.widgets[0], Image) and image.widgets[0].data.startswith(b"\x89PNG")
        assert "image/png" in image.text and "a dot" in image.text
        jpeg = await mcp.call("t", "jpeg")
        assert isinstance(jpeg.widgets[0], Image) and jpeg.widgets[0].data.startswith(b"\xff\xd8\xff")
        mislabelled = await mcp.call("t", "mislabelled")  # not what it claims: a download, never shown
        assert isinstance(mislabelled.widgets[0], File) and mislabelled.widgets[0].mime == "image/png"

        resources = await mcp.call("t", "resources")
        kinds = [type(w).__name__ for w in resources.widgets]
        assert kinds.count("File") == 2 and "Markdown" in kinds  # csv + blob download, markdown view, link
        assert "a,b" in resources.text and "https://example.org/doc" in resources.text

        failed = await mcp.call("t", "fail", {"message": "no such order"})
        assert failed.is_error and "no such order" in failed.text
        unknown = await mcp.call("t", "nope")
        assert unknown.is_error and "no tool `nope`" in unknown.text


async def test_progress_with_and_without_total_and_logs() -> None:
    async with running(stdio_config()) as mcp:
        seen: list[tuple[float, float | None, str | None]] = []
        outcome = await mcp.call("t", "progress", {"steps": 3}, on_progress=lambda p, t, m: seen.append((p, t, m)))
        assert outcome.text == "done 3 steps"
        assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
        seen.clear()
        await mcp.call("t", "progress", {"steps": 2, "with_total": False}, on_progress=lambda *a: seen.append(a))
        assert seen == [(1, None, "step 1"), (2, None, "step 2")]

        lines: list[tuple[str, str]] = []
        outcome = await mcp.call("t", "chatty", {"lines": 2}, on_log=lambda level, text: lines.append((level, text)))
        assert outcome.text == "logged 2" and lines == [("info", "log line 1"), ("info", "log line 2")]


async def test_elicitation_is_routed_to_the_call() -> None:
    async with running(stdio_config(timeout_s=2)) as mcp:
        asked: list[tuple[str, dict]] = []

        async def answer(message: str, schema: dict) -> tuple[str, dict | None]:
            asked.append((message, schema))
            await asyncio.sleep(1.5)
            return "accept", {"ok": True, "note": "fine"}

        # 1.5 s answering + 1 s of server work > the 2 s timeout: the person's time is not counted.
        outcome = await mcp.call("t", "ask", {"question": "Delete it?", "delay": 1.0}, elicit=answer)
        assert outcome.text == "accepted ok=True note=fine", outcome.text
        assert asked[0][0] == "Delete it?" and "ok" in asked[0][1]["properties"]

        declined = await mcp.call("t", "ask", {"question": "Sure?"}, elicit=lambda m, s: _later(("decline", None)))
        assert declined.text == "decline"
        nobody = await mcp.call("t", "ask", {"question": "Anyone?"})  # no handler: declined, not hung
        assert nobody.text == "decline"

        async def never(message: str, schema: dict) -> tuple[str, dict | None]:
            await asyncio.sleep(60)
            return "accept", {}

        unanswered = await mcp.call("t", "ask", {"question": "Hello?"}, elicit=never, timeout_s=1)
        assert unanswered.text == "decline"


async def _later(value: tuple[str, dict | None]) -> tuple[str, dict | None]:
    return value


async def test_stop_and_timeout_cancel_the_request_and_keep_the_connection() -> None:
    async with running(stdio_config(timeout_s=1)) as mcp:
        task = asyncio.create_task(mcp.call("t", "slow", {"seconds": 30}, timeout_s=30))
        await asyncio.sleep(0.5)
        task.cancel()  # the person pressed Stop
        try:
            await task
            raise AssertionError("the call was not cancelled")
        except asyncio.CancelledError:
            pass
        timed_out = await mcp.call("t", "slow", {"seconds": 30})
        assert timed_out.is_error and "timed out after 1 s" in timed_out.text
        await asyncio.sleep(0.2)
        stats = await mcp.call("t", "stats")
        assert stats.structured["cancelled"] == 2 and stats.structured["slow_started"] == 2  # same process
        assert mcp.state("t").reconnects == 0


async def test_tool_list_change_is_followed_and_reported() -> None:
    changes: list[ServerState] = []
    async with running(stdio_config(), on_change=changes.append) as mcp:
        before = mcp.state("t").tool_count
        changes.clear()
        assert (await mcp.call("t", "add_tool", {"name": "fresh"})).text == "added fresh"
        for _ in range(100):
            if mcp.state("t").tool_count == before + 1:
                break
            await asyncio.sleep(0.05)
        assert "t__fresh" in {tool.qualified_name for tool in mcp.offered_tools()}
        assert changes and changes[-1].tool_count == before + 1
        assert (await mcp.call("t", "fresh")).text == "I am fresh"


async def test_a_huge_result_is_capped_for_the_model_and_whole_for_the_person() -> None:
    async with running(stdio_config(max_result_chars=5_000)) as mcp:
        outcome = await mcp.call("t", "huge", {"megabytes": 10})
        assert not outcome.is_error and outcome.truncated
        assert outcome.full_chars >= 10_000_000 and len(outcome.text) < 5_200
        assert "cut to 5,000 of" in outcome.text
        download = outcome.widgets[0]
        assert isinstance(download, File) and len(download.data) == outcome.full_chars
        assert isinstance(outcome.widgets[1], Markdown) and "Preview" in outcome.widgets[1].text
        assert (await mcp.call("t", "echo", {"text": "still fine"})).text == "still fine"
