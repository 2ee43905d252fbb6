"""Three replicas behind HAProxy act as one app (real redis-server, PostgreSQL, HAProxy, Chromium): a tab on
another replica follows a live reply with nothing lost or doubled and takes the chat over when it ends; the tab
left behind is told the chat moved; a rate-limit burst counts over all three; a file attached through one
replica is read through another."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from galaxy_chat.testing.browser import ThreadedServer
from galaxy_chat.testing.llm_server import Reply, is_chat_request
from galaxy_chat.testing.llm_wire import DONE, openai_chunk, openai_text
from galaxy_chat.testing.postgres import PostgresServer
from tests.browser_helpers import needs_chromium, scripted_model, send_and_wait
from tests.coord.cluster import Cluster, browser, haproxy_or_skip, reply_words, served_by, wait_until
from tests.coord.conftest import redis_or_skip

pytestmark = [*needs_chromium, pytest.mark.timeout(240)]
WORDS, PER_S = 120, 20  # a six-second reply


def counting_reply(words: int = WORDS, prefix: str = "w") -> Reply:
    chunks: list[bytes | float] = []
    for n in range(words):
        chunks += [openai_chunk({"content": f"{prefix}{n:04d} "}), 1 / PER_S]
    return Reply(200, [*chunks, openai_chunk({}, finish="stop"), DONE])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> Iterator[
        tuple[Cluster, ThreadedServer]]:
    haproxy_or_skip()
    postgres.reset()
    redis = redis_or_skip().start()
    workdir = tmp_path_factory.mktemp("cluster")
    with scripted_model(workdir) as (llm, env), Cluster(workdir, redis, postgres, env) as running:
        yield running, llm
    redis.cleanup()


def test_a_tab_on_another_replica_follows_the_live_reply_and_then_owns_the_chat(
        cluster: tuple[Cluster, ThreadedServer]) -> None:
    running, llm = cluster
    llm.script(counting_reply(), Reply(200, openai_text("The next answer, from the new owner.")))
    with browser() as tab:
        first = tab(running.url, replica="a")
        assert served_by(first) == "a"
        box = first.get_by_test_id("chat-input")
        box.fill("Count slowly")
        box.press("Enter")
        first.get_by_text("w0020", exact=False).wait_for(timeout=15_000)

        second = tab(running.url, replica="b")  # another browser, on another replica, mid-reply
        assert served_by(second) == "b"
        second.get_by_test_id("message-user").get_by_text("Count slowly").wait_for(timeout=10_000)
        first.get_by_text("This chat is now open in another tab", exact=False).wait_for(timeout=10_000)
        second.get_by_test_id("stop-button").wait_for(timeout=5_000)  # the reply is live here too
        second.get_by_text(f"w{WORDS - 1:04d}", exact=False).wait_for(timeout=20_000)
        second.get_by_test_id("send-button").wait_for(timeout=10_000)
        assert reply_words(second) == [f"w{n:04d}" for n in range(WORDS)]  # nothing lost, nothing twice

        send_and_wait(second, "And now?")  # the chat continues on b, with the whole reply as context
        second.get_by_text("The next answer, from the new owner.").wait_for(timeout=10_000)
        asked = [r for r in llm.server.requests if is_chat_request(r)][-1].json()["messages"]
        assert [m["role"] for m in asked[-3:]] == ["user", "assistant", "user"]
        assert asked[-2]["content"].split() == [f"w{n:04d}" for n in range(WORDS)]

        chat_id = first.url.rsplit("/c/", 1)[1]
        stored = running.conversation(chat_id)["messages"]
        assert [m["status"] for m in stored if m["role"] == "assistant"] == ["done", "done"]

        second.context.clear_cookies()  # the sticky cookie dropped: the reload lands wherever
        second.reload(wait_until="networkidle")
        second.get_by_text("The next answer, from the new owner.").wait_for(timeout=10_000)
        assert second.get_by_test_id("message-assistant").count() == 2


def test_stop_on_the_replica_that_follows_stops_the_reply_where_it_runs(
        cluster: tuple[Cluster, ThreadedServer]) -> None:
    running, llm = cluster
    llm.script(counting_reply(words=400, prefix="s"))
    with browser() as tab:
        first = tab(running.url, replica="c", email="stan@example.com")
        box = first.get_by_test_id("chat-input")
        box.fill("Count until I stop you")
        box.press("Enter")
        first.get_by_text("s0010", exact=False).wait_for(timeout=15_000)
        chat_id = first.url.rsplit("/c/", 1)[1]
        second = tab(running.url, replica="a", email="stan@example.com")
        second.get_by_text("s0015", exact=False).wait_for(timeout=10_000)
        second.get_by_test_id("stop-button").click()
        second.get_by_test_id("send-button").wait_for(timeout=10_000)
        words = reply_words(second, "s")
        assert 15 <= len(words) < 400 and words == [f"s{n:04d}" for n in range(len(words))]
        wait_until(lambda: running.conversation(chat_id, "stan@example.com")["messages"][-1]["status"] == "stopped",
                   what="the reply stored as stopped")
        stored = running.conversation(chat_id, "stan@example.com")["messages"][-1]["text"].split()
        assert stored == words  # what the replica running it saved is what the other one showed


def test_without_the_sticky_cookie_every_reload_resumes_the_live_reply(
        cluster: tuple[Cluster, ThreadedServer]) -> None:
    running, llm = cluster
    llm.script(counting_reply(prefix="v"))
    with browser() as tab:
        page = tab(f"{running.url}/", email="dana@example.com")
        box = page.get_by_test_id("chat-input")
        box.fill("Count again")
        box.press("Enter")
        page.get_by_text("v0010", exact=False).wait_for(timeout=15_000)
        replicas = {served_by(page)}
        for _ in range(3):  # each reload without the cookie: round robin sends it to the next replica
            page.context.clear_cookies()
            page.reload(wait_until="networkidle")
            replicas.add(served_by(page))
            page.get_by_test_id("message-user").get_by_text("Count again").wait_for(timeout=10_000)
        page.get_by_text(f"v{WORDS - 1:04d}", exact=False).wait_for(timeout=20_000)
        page.get_by_test_id("send-button").wait_for(timeout=10_000)
        assert reply_words(page, "v") == [f"v{n:04d}" for n in range(WORDS)]
        assert len(replicas) >= 2


def test_a_burst_over_three_replicas_is_refused_at_the_twenty_first_message(
        cluster: tuple[Cluster, ThreadedServer]) -> None:
    running, _ = cluster
    answers = [httpx.post(f"{running.url}/api/commands", json={"text": "/calc 2*21"},
                          headers={"X-EMAIL-USER": "burst@example.com"}, timeout=10) for _ in range(21)]
    assert {answer.headers["X-Served-By"] for answer in answers} == {"a", "b", "c"}
    assert [answer.status_code for answer in answers] == [200] * 20 + [429]
    assert "You have sent 20 messages in the last minute" in answers[-1].json()["detail"]


def test_a_file_attached_through_one_replica_is_read_through_another(
        cluster: tuple[Cluster, ThreadedServer], tmp_path: Path) -> None:
    running, _ = cluster
    a, b = running.replicas["a"].url, running.replicas["b"].url
    headers = {"X-EMAIL-USER": "erin@example.com"}
    with browser() as tab:
        page = tab(running.url, replica="a", email="erin@example.com")
        send_and_wait(page, "/calc 1+1")  # a stored chat of Erin's
        chat_id = page.url.rsplit("/c/", 1)[1]
        csv = b"city,people\nLyon,522000\nNantes,320000\nLille,236000\n"
        uploaded = httpx.post(f"{b}/api/uploads/{chat_id}", content=csv,
                              headers={**headers, "X-File-Name": "cities.csv"}, timeout=30)
        assert uploaded.status_code == 200, uploaded.text
        file = uploaded.json()
        assert httpx.get(f"{a}/api/files/{file['id']}", headers=headers, timeout=10).content == csv
        assert httpx.get(f"{a}/api/files/{file['id']}", headers={"X-EMAIL-USER": "x@example.com"},
                         timeout=10).status_code == 404
        table = re.search(r"cities\w*", str(file)).group(0)  # type: ignore[union-attr]
        send_and_wait(page, f"/sql SELECT SUM(people) AS total FROM {table}")  # run on a, file kept by b
        page.get_by_role("cell", name="1078000").wait_for(timeout=10_000)
