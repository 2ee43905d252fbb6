"""Search on real SQLite (FTS5) and PostgreSQL (tsvector): ranking, snippets, owners, deletion at once."""

from __future__ import annotations

from galaxy_chat.store.search import pieces
from galaxy_chat.store.sql_store import SqlHistoryStore
from tests.store.test_store import ADA, BOB, chat

FILLER = "We looked at the quarterly numbers and the regional breakdown together. " * 6


def joined(snippet: list[tuple[str, bool]]) -> str:
    return "".join(text for text, _ in snippet)


async def test_results_are_ranked_and_snippets_mark_the_words(store: SqlHistoryStore) -> None:
    titled, _, _ = await chat(store, question="Histogram of salaries by department",
                              answer="Use df.hist(column='salary', by='department').")
    mentioned, _, reply = await chat(store, question="Summarise the sales report",
                                     answer=f"{FILLER} A histogram of the order sizes is skewed. {FILLER}")
    await chat(store, question="What is a median?", answer="The middle value.")
    hits = await store.search(ADA, "histogram")
    assert [hit.conversation_id for hit in hits] == [titled, mentioned]  # a title outranks a passing mention
    assert hits[0].rank > hits[1].rank
    assert hits[0].message_id is None and hits[0].title == "Histogram of salaries by department"
    assert hits[1].message_id == reply
    marked = [text for text, highlighted in hits[1].snippet if highlighted]
    assert [word.lower() for word in marked] == ["histogram"]
    assert "order sizes" in joined(hits[1].snippet) and len(joined(hits[1].snippet)) < len(FILLER)
    assert all("\u0002" not in text and "\u0003" not in text for hit in hits for text, _ in hit.snippet)


async def test_every_word_must_match_and_the_last_is_a_prefix(store: SqlHistoryStore) -> None:
    both, _, _ = await chat(store, question="Plot revenue per region", answer="Here is the bar chart.")
    await chat(store, question="Plot the weather", answer="Sunny.")
    assert [hit.conversation_id for hit in await store.search(ADA, "plot revenue")] == [both]
    assert [hit.conversation_id for hit in await store.search(ADA, "revenue regi")] == [both]
    assert await store.search(ADA, "regi ") == []  # a finished word is not a prefix
    assert await store.search(ADA, '"; DROP TABLE messages; --') == []
    assert await store.search(ADA, "   ") == []
    assert len(await store.search(ADA, "plot")) == 2


async def test_search_only_sees_the_owners_chats(store: SqlHistoryStore) -> None:
    await chat(store, owner=BOB, question="Secret merger plans", answer="Project Falcon.")
    assert await store.search(ADA, "merger") == []
    assert await store.search(ADA, "falcon") == []
    assert len(await store.search(BOB, "falcon")) == 1


async def test_a_deleted_chat_leaves_search_at_once_and_undo_brings_it_back(store: SqlHistoryStore) -> None:
    cid, _, _ = await chat(store, question="Kubernetes ingress setup", answer="Use an nginx ingress controller.")
    assert len(await store.search(ADA, "ingress")) == 1
    await store.delete_conversation(ADA, cid)
    assert await store.search(ADA, "ingress") == []
    assert await store.search(ADA, "nginx") == []
    await store.restore_conversation(ADA, cid)
    assert [hit.conversation_id for hit in await store.search(ADA, "nginx")] == [cid]
    assert len(await store.search(ADA, "kubernetes")) == 1


async def test_renamed_titles_are_searched_by_their_new_name(store: SqlHistoryStore) -> None:
    cid, _, _ = await chat(store, question="hello", answer="hi")
    await store.set_title(ADA, cid, "Quarterly budget review")
    hits = await store.search(ADA, "budget")
    assert [hit.conversation_id for hit in hits] == [cid] and hits[0].title == "Quarterly budget review"
    assert await store.search(ADA, "hello") != [] and await store.set_title(ADA, cid, "Other")
    assert await store.search(ADA, "budget") == []


async def test_text_is_indexed_when_a_message_is_finished(store: SqlHistoryStore) -> None:
    cid = await store.create_conversation(ADA, title="t")
    await store.append_message(ADA, cid, "user", text="zebra question")
    assert len(await store.search(ADA, "zebra")) == 1  # a person's message at once
    reply = await store.append_message(ADA, cid, "assistant", lease_s=30)
    await store.append_parts(ADA, reply, [{"type": "text_delta", "text": "giraffe "}])
    assert await store.search(ADA, "giraffe") == []  # streamed text: at its end
    await store.finish_message(ADA, reply, {"type": "done", "stopped": False})
    assert [hit.message_id for hit in await store.search(ADA, "giraffe")] == [reply]
    cut = await store.append_message(ADA, cid, "assistant", lease_s=30)
    await store.append_parts(ADA, cut, [{"type": "text_delta", "text": "okapi"}])
    await store.append_message(ADA, cid, "user", text="go on")  # the cut-off reply is continued: indexed
    assert [hit.message_id for hit in await store.search(ADA, "okapi")] == [cut]


async def test_markers_in_message_text_cannot_forge_highlights(store: SqlHistoryStore) -> None:
    await chat(store, question="about \u0002<script>\u0003 tags", answer="ok")
    [hit] = await store.search(ADA, "tags")
    assert [text for text, highlighted in hit.snippet if highlighted] == ["tags"]


def test_snippet_pieces() -> None:
    assert pieces("a \u0002b\u0003 c") == [("a ", False), ("b", True), (" c", False)]
    assert pieces("\u0002x\u0003\u0002y\u0003") == [("x", True), ("y", True)]
    assert pieces("plain") == [("plain", False)]


def test_snippets_cut_a_window_around_the_words() -> None:
    from galaxy_chat.store.snippets import cut

    text = " ".join(f"w{i}" for i in range(40)) + " the plots are ready " + " ".join(f"v{i}" for i in range(40))
    marked = pieces(cut(text, ["plot"], prefix=False, tokens=10))
    assert [t for t, highlighted in marked if highlighted] == ["plots"]
    shown = "".join(t for t, _ in marked)
    assert shown.startswith("…") and shown.endswith("…") and "w0 " not in shown and len(shown.split()) <= 12
    assert pieces(cut("Pythonic code", ["pyth"], prefix=True)) == [("Pythonic", True), (" code", False)]
    assert pieces(cut("Pythonic code", ["pyth"], prefix=False)) == [("Pythonic code", False)]
    assert cut("short title", ["title"], prefix=False, whole=True) == "short \u0002title\u0003"


async def test_a_common_word_is_ranked_among_recent_matches(store: SqlHistoryStore, monkeypatch) -> None:
    from galaxy_chat.store import search

    monkeypatch.setattr(search, "POOL", 2)
    monkeypatch.setattr(search, "WINDOW", 2)
    ids = [(await chat(store, question=f"zeta number {i}", answer="ok"))[0] for i in range(5)]
    found = [hit.conversation_id for hit in await store.search(ADA, "zeta")]
    if store.engine.dialect.name == "sqlite":
        assert found == [ids[4]]  # the two newest matching rows are its title and its message
    else:  # the newest rows gave fewer hits than asked for: every row is searched
        assert sorted(found) == sorted(ids)
    assert [hit.conversation_id for hit in await store.search(ADA, "number 1")] == [ids[1]]
