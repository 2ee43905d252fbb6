"""The admin page in NiceGUI's simulation, against the scripted model: what an admin sees after a chat
(models, usage from the history, the feedback with a link to their own chat), and what others do not."""

from __future__ import annotations

import asyncio

from nicegui import ui

from galaxy_chat.testing.llm_server import Reply
from galaxy_chat.testing.llm_wire import openai_text
from tests.page_helpers import is_shown, model_file, send, wait_until_idle

ADMIN = "admin@example.com"
PERMISSIONS = f"""groups:
  admins:
    members: [{ADMIN}]
    tools: ["*"]
    models: ["*"]
  default:
    tools: ["*"]
    models: ["*"]
"""


def table_rows(user, marker: str) -> list[dict]:
    tables = [e for e in user.find(marker=marker).elements if isinstance(e, ui.table)]
    assert tables, f"no table {marker}"
    return tables[0].rows


async def test_an_admin_sees_models_usage_and_feedback(simulated_app, llm_server, tmp_path) -> None:
    (tmp_path / "permissions.yml").write_text(PERMISSIONS)
    llm_server.script(Reply(200, openai_text("Rate me.", usage=(21, 4))))
    env = {"TEST_MODE": "true", "PERMISSIONS_FILE": str(tmp_path / "permissions.yml"),
           **model_file(tmp_path, llm_server)}
    async with simulated_app(**env) as user:
        user.http_client.headers["X-EMAIL-USER"] = ADMIN
        await user.open("/")
        assert is_shown(user, "admin-link")
        await send(user, "Hi")
        await wait_until_idle(user)
        user.find(marker="thumb-up").click()
        user.find(marker="feedback-text").type("nice answer")
        user.find(marker="feedback-send").click()
        for _ in range(40):
            if (tmp_path / "logs" / "feedback.jsonl").exists():
                break
            await asyncio.sleep(0.05)
        await user.open("/admin")
        await user.should_see(marker="admin-title")
        assert [r["model"] for r in table_rows(user, "admin-models")] == ["Scripted"]
        for _ in range(40):  # the reply reaches the history on the writer's next flush
            await user.open("/admin")
            by_model = table_rows(user, "admin-usage-model")
            if by_model:
                break
            await asyncio.sleep(0.1)
        assert by_model == [{"model": "Scripted", "replies": 1, "input tokens": 21, "output tokens": 4}]
        assert [r["user"] for r in table_rows(user, "admin-usage-user")] == [ADMIN]
        feedback = table_rows(user, "admin-feedback")
        assert feedback[0]["comment"] == "nice answer" and feedback[0]["rating"] == "up"
        assert feedback[0]["chat"].startswith("c/")  # the admin's own chat: linked
        csv = await user.http_client.get("/admin/usage.csv?table=model&days=1")
        assert csv.status_code == 200 and "Scripted,1,21,4" in csv.text


async def test_others_get_no_admin_link_and_a_403(simulated_app, tmp_path) -> None:
    (tmp_path / "permissions.yml").write_text(PERMISSIONS)
    async with simulated_app(TEST_MODE="true", PERMISSIONS_FILE=str(tmp_path / "permissions.yml")) as user:
        user.http_client.headers["X-EMAIL-USER"] = "someone@example.com"
        await user.open("/")
        await user.should_see(marker="welcome")
        assert not is_shown(user, "admin-link")
        assert (await user.http_client.get("/admin")).status_code == 403
        assert (await user.http_client.get("/admin/usage.csv")).status_code == 403
        assert (await user.http_client.get("/metrics")).status_code == 403
