"""Files attached to a chat, through the page and its upload route: a CSV queried at once with /sql and by the
model, a document cited by name, images for a model that can see and a notice for one that cannot, refused
files with their reason, files private to their owner and kept with the chat."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import app
from nicegui.testing import User

from galaxy_chat.testing.llm_server import Reply, is_chat_request
from galaxy_chat.testing.llm_wire import openai_text, openai_tool_calls
from tests.page_helpers import assistant_html, model_file, send, wait_until_idle

ADA = {"X-EMAIL-USER": "ada@example.com"}
BOB = {"X-EMAIL-USER": "bob@example.com"}
CSV = b"region;month;amount\nNorth;2024-01;10.5\nSouth;2024-01;7\nNorth;2024-02;4.5\nSouth;2024-02;3\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d4944415478da63f8cfc0f01f0005000201a5e6e5b40000000049454e44ae426082")


def asked(server: Any) -> list[list[dict[str, Any]]]:
    """The messages of each chat request the model got, in order."""
    return [request.json()["messages"] for request in server.requests if is_chat_request(request)]


def chips(user: User) -> Any:
    (element,) = user.find(marker="attachments").elements
    return element


async def upload(user: User, name: str, data: bytes, headers: dict[str, str] = ADA) -> Any:
    """What the browser does for a dropped file: its bytes to the tray's address, then tell the page."""
    response = await user.http_client.post(chips(user).props["url"], content=data,
                                           headers={**headers, "X-File-Name": name})
    if response.status_code == 200:
        user.find(marker="attachments").trigger("uploaded", response.json())
        await asyncio.sleep(0.05)
    return response


async def test_a_dropped_csv_is_a_table_at_once_and_the_model_is_told_about_it(simulated_app, llm_server,
                                                                                tmp_path) -> None:
    llm_server.script(Reply(200, openai_tool_calls(("c1", "sql_query", [
                          '{"query": "SELECT region, SUM(amount) AS total FROM sales_2024 GROUP BY region"}']))),
                      Reply(200, openai_text("North sold 15, South 10.")))
    async with simulated_app(**model_file(tmp_path, llm_server)) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        sent = await upload(user, "sales 2024.csv", CSV)
        assert sent.status_code == 200, sent.text
        file = sent.json()
        assert (file["kind"], file["tables"]) == ("table", ["sales_2024"])
        assert file["summary"] == "4 rows \N{MULTIPLICATION SIGN} 3 columns"
        assert [chip["name"] for chip in chips(user).props["files"]] == ["sales 2024.csv"]

        await send(user, "Which region sold more?")
        await wait_until_idle(user)
        assert chips(user).props["files"] == []  # sent with the message
        await user.should_see("sales 2024.csv · 4 rows \N{MULTIPLICATION SIGN} 3 columns", marker="attached-file")
        first = asked(llm_server)[0][-1]["content"]
        assert "sales 2024.csv (table" in first and "sql_query as table `sales_2024`" in first
        assert "region" in first and "North" in first and first.endswith("Which region sold more?")
        tool_result = asked(llm_server)[1][-1]
        assert tool_result["role"] == "tool" and "North | 15" in tool_result["content"]
        assert "North sold 15" in assistant_html(user)

        await send(user, "/sql SELECT month, SUM(amount) AS amount FROM sales_2024 GROUP BY month")
        await wait_until_idle(user)
        await user.should_see("2024-02")  # the person's own /sql on the file, with the same table widget


async def test_refused_files_say_why_and_leave_nothing(simulated_app, tmp_path) -> None:
    async with simulated_app(UPLOAD_MAX_MB="1") as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        empty = await upload(user, "empty.csv", b"")
        assert empty.status_code == 400 and "empty" in empty.json()["detail"]
        big = await upload(user, "big.csv", b"a,b\n" + b"1,2\n" * 300_000)
        assert big.status_code == 413 and "1 MB" in big.json()["detail"]
        escape = await upload(user, "../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
        assert escape.status_code == 200 and escape.json()["name"] == "passwd"  # a name, never a path
        user.find(marker="attachments").trigger("refused", {"name": "big.csv", "reason": "is larger than 1 MB"})
        await user.should_see("big.csv is larger than 1 MB")
        assert not (tmp_path / "etc").exists() and list((app.state.services.settings.data_dir / "incoming")
                                                          .iterdir()) == []


async def test_files_are_their_owners_alone_and_leave_with_the_chat(simulated_app) -> None:
    async with simulated_app() as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        file = (await upload(user, "dot.png", PNG)).json()
        assert file["kind"] == "image"
        other = await user.http_client.post(chips(user).props["url"], content=CSV,
                                            headers={**BOB, "X-File-Name": "x.csv"})
        assert other.status_code == 404  # not Bob's chat
        mine = await user.http_client.get(f"/api/files/{file['id']}")
        assert mine.status_code == 200 and mine.content == PNG
        assert mine.headers["x-content-type-options"] == "nosniff" and mine.headers["content-type"] == "image/png"
        assert (await user.http_client.get(f"/api/files/{file['id']}", headers=BOB)).status_code == 404
        await send(user, "/calc 1+1")
        await wait_until_idle(user)
        await user.should_see(marker="attached-files")
        await app.state.services.history.writer.flush()
        (chat,) = (await user.http_client.get("/api/conversations")).json()["items"]

        await user.open(f"/c/{chat['id']}")  # the chat again: its message still shows the image
        await user.should_see(marker="attached-files")
        assert (await user.http_client.delete("/api/conversations")).json()["deleted"] == 1
        assert (await user.http_client.get(f"/api/files/{file['id']}")).status_code == 404


async def test_images_go_to_a_model_that_sees_and_others_say_they_cannot(simulated_app, llm_server,
                                                                         tmp_path) -> None:
    seeing = ("- name: Seeing\n  provider: openai\n  base_url: " + llm_server.base_url + "/v1\n"
              "  model_name: seeing-1\n  vision: true\n")
    llm_server.script(Reply(200, openai_text("A dot.")), Reply(200, openai_text("I cannot tell.")))
    async with simulated_app(**model_file(tmp_path, llm_server, seeing)) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        user.find(marker="model-select").elements.pop().set_value("Seeing")
        await upload(user, "dot.png", PNG)
        await send(user, "What is this?")
        await wait_until_idle(user)
        content = asked(llm_server)[0][-1]["content"]
        assert content[1]["type"] == "image_url" and content[1]["image_url"]["url"].startswith("data:image/png")

        user.find(marker="model-select").elements.pop().set_value("Scripted")
        await upload(user, "dot.png", PNG)
        await send(user, "And now?")
        await wait_until_idle(user)
        await user.should_see("Scripted cannot see images", marker="notice-line")
        last = asked(llm_server)[-1][-1]["content"]
        assert isinstance(last, str) and "dot" in last  # told the name, not sent the picture


async def test_a_document_is_searched_and_cited_by_name(simulated_app, llm_server, tmp_path) -> None:
    llm_server.script(Reply(200, openai_text("Lockers are on level 3 [1].")))
    handbook = b"# Office guide\n\n## Lockers\n\nThe bicycle lockers are on level 3, next to the showers.\n"
    async with simulated_app(**model_file(tmp_path, llm_server)) as user:
        user.http_client.headers.update(ADA)
        await user.open("/")
        await upload(user, "office-guide.md", handbook)
        await send(user, "Where are the bicycle lockers?")
        await wait_until_idle(user)
        given = asked(llm_server)[0][-1]["content"]
        assert "<passage" in given and "level 3, next to the showers" in given
        await user.should_see("Sources used (1)")
        await user.should_see("office-guide.md", marker="citations")
