"""Documents become passages cited by file and page; images are parsed and read back as they were sent."""

from __future__ import annotations

import pytest

from galaxy_chat.files import FileRefused, Uploads
from galaxy_chat.vocabulary.widgets import Image
from tests.files.conftest import ADA, BOB
from tests.files.makers import encrypted_pdf, pdf, png

HANDBOOK = """# Travel policy

## Trains
Employees travel second class on trains shorter than four hours. Longer journeys may be first class.

## Flights
Economy class is booked for every flight under six hours; the travel desk books premium economy beyond.
"""


async def test_a_pdf_is_searchable_and_cited_by_page(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "handbook.pdf", pdf(["Lunch is served at noon.",
                                                                "Parental leave lasts sixteen weeks in total."]))
    assert (file.kind, file.mime, file.meta["pages"]) == ("document", "application/pdf", 2)
    assert Uploads.chip(file) == "2 pages"
    passages = await uploads.retrieve(ADA, chat, "How long is parental leave?", limit=3)
    assert passages[0].location == "handbook.pdf, page 2" and "sixteen weeks" in passages[0].text
    assert passages[0].source_name == "handbook.pdf" and passages[0].kind == "documents"
    assert await uploads.retrieve(BOB, chat, "parental leave", limit=3) == []


async def test_a_pdf_locked_only_against_copying_is_read(uploads: Uploads, chat: str) -> None:
    await uploads.accept(ADA, chat, "locked.pdf", encrypted_pdf(user_password=""))
    [passage] = await uploads.retrieve(ADA, chat, "secret salaries", limit=2)
    assert passage.location == "locked.pdf, page 1"


async def test_markdown_passages_follow_its_headings(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "travel.md", HANDBOOK.encode())
    assert (file.kind, file.mime) == ("document", "text/markdown")
    [best, *_] = await uploads.retrieve(ADA, chat, "economy flight", limit=2)
    assert "Economy class" in best.text and best.title.startswith("Travel policy")


async def test_plain_text_is_searchable(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "notes", b"The server room key is kept at reception.\n")
    assert (file.kind, file.mime) == ("text", "text/plain")
    [passage] = await uploads.retrieve(ADA, chat, "where is the server room key", limit=4)
    assert passage.location == "notes"


async def test_a_pdf_without_a_text_layer_is_kept_with_a_note(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "scan.pdf", pdf([""]))
    assert file.meta["passages"] == 0 and any("no text layer" in note for note in file.meta["notes"])


async def test_images_are_accepted_by_their_bytes_and_read_back(uploads: Uploads, chat: str) -> None:
    data = png(640, 480)
    file = await uploads.accept(ADA, chat, "photo.jpg", data)  # the name says JPEG, the bytes say PNG
    assert (file.kind, file.mime, Uploads.chip(file)) == ("image", "image/png", "640 \u00d7 480")
    assert await uploads.read_bytes(file) == data
    assert Image(data=await uploads.read_bytes(file)).mime == "image/png"


async def test_a_damaged_or_enormous_image_is_refused(uploads: Uploads, chat: str) -> None:
    broken = bytearray(png())
    broken[20] ^= 0xFF  # the header's checksum no longer matches
    with pytest.raises(FileRefused, match="damaged"):
        await uploads.accept(ADA, chat, "a.png", bytes(broken))
    with pytest.raises(FileRefused, match="million pixels"):
        await uploads.accept(ADA, chat, "b.png", png(claimed=(20_000, 20_000)))
    assert await uploads.list_files(ADA, chat) == []
