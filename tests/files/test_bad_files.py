"""Hostile and broken uploads: each is refused with a sentence for the person, or kept safely; nothing is
ever written outside the upload folder, and nothing of a refused file stays behind."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from galaxy_chat.files import FileRefused, UploadLimits, Uploads
from tests.files.conftest import ADA
from tests.files.makers import encrypted_pdf, pdf, xlsx_with_entities, zip_bomb_xlsx

MB = 1024 * 1024
DERIVED = {"tables.db", "index.db", "tables.db-journal", "index.db-journal"}


@pytest.fixture(autouse=True)
def only_the_upload_folder_changes(tmp_path: Path, data_dir: Path):
    before = set(tmp_path.rglob("*"))
    yield
    uploads_root = data_dir / "uploads"
    added = {path for path in set(tmp_path.rglob("*")) - before if not path.name.startswith("history.db")}
    outside = [path for path in added if path != uploads_root and uploads_root not in path.parents
               and not path.name.startswith("made-")]
    assert outside == []


def kept_files(data_dir: Path) -> list[str]:
    """The uploaded files on disk (not the chat's derived databases)."""
    root = data_dir / "uploads"
    return sorted(path.name for path in root.rglob("*") if path.is_file() and path.name not in DERIVED)


async def refused(uploads: Uploads, chat: str, name: str, source: Path | bytes, match: str) -> str:
    before = await uploads.list_files(ADA, chat)
    with pytest.raises(FileRefused, match=match) as caught:
        await uploads.accept(ADA, chat, name, source)
    assert await uploads.list_files(ADA, chat) == before
    return caught.value.reason


async def test_a_path_as_a_name_is_only_a_name(uploads: Uploads, chat: str, data_dir: Path) -> None:
    file = await uploads.accept(ADA, chat, "../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
    assert file.name == "passwd"
    assert not (data_dir.parent / "etc").exists() and not (data_dir / "etc").exists()
    path = uploads.path_of(file)
    assert path.name == file.id and (data_dir / "uploads") in path.parents
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    for hostile in ("..", "/", "\x00", ".htaccess", "a\u202egnp.exe"):
        named = await uploads.accept(ADA, chat, hostile, b"text")
        assert "/" not in named.name and not named.name.startswith(".") and "\u202e" not in named.name


async def test_empty_and_over_limit_files_are_refused(store, data_dir: Path, chat: str, tmp_path: Path) -> None:
    small = Uploads(store, data_dir, UploadLimits(max_bytes=1 * MB, max_files_per_chat=2, max_bytes_per_user=3 * MB))
    await refused(small, chat, "empty.csv", b"", "empty")
    big = tmp_path / "made-big.csv"
    big.write_bytes(b"a,b\n" + b"1,2\n" * (MB // 2))
    assert "larger than the 1 MB" in await refused(small, chat, "big.csv", big, "larger")
    await small.accept(ADA, chat, "one.txt", b"one")
    await small.accept(ADA, chat, "two.txt", b"two")
    assert "already holds 2 files" in await _refused_keep(small, chat, "three.txt", b"three")
    other = await store.create_conversation(ADA)
    await small.accept(ADA, other, "a.txt", b"x" * MB)
    await small.accept(ADA, other, "b.txt", b"y" * MB)  # 2 MB + 6 bytes used of 3 MB
    assert "per person" in await _refused_keep(small, await store.create_conversation(ADA), "c.txt", b"z" * (MB - 5))
    assert len(kept_files(data_dir)) == 4


async def _refused_keep(uploads: Uploads, chat: str, name: str, source: bytes) -> str:
    with pytest.raises(FileRefused) as caught:
        await uploads.accept(ADA, chat, name, source)
    return caught.value.reason


async def test_a_40_mb_line_is_refused_in_a_table_and_capped_in_text(uploads: Uploads, chat: str,
                                                                      tmp_path: Path, data_dir: Path) -> None:
    table = tmp_path / "made-long.csv"
    with table.open("wb") as out:
        out.write(b"a,b\n" + b"1,2\n" * 100 + b"3," + b"x" * (40 * MB) + b"\n")
    assert "Line 102 is longer than 1,000,000 characters" in await refused(uploads, chat, "long.csv", table, "Line")
    single = tmp_path / "made-single.txt"
    single.write_bytes(b"word " * (8 * MB))  # 40 MB, one line
    file = await uploads.accept(ADA, chat, "single.txt", single)
    assert file.kind == "text" and "only the first 5,000,000 characters are searched" in file.meta["notes"]
    assert kept_files(data_dir) == [file.id]


async def test_a_zip_bomb_named_xlsx_is_refused_unopened(uploads: Uploads, chat: str, tmp_path: Path,
                                                         data_dir: Path) -> None:
    bomb = zip_bomb_xlsx(tmp_path / "made-bomb.xlsx", inflated_mb=50)
    assert bomb.stat().st_size < MB // 5
    reason = await refused(uploads, chat, "report.xlsx", bomb, "zip bomb")
    assert "would unpack to 52 MB from 0.1 MB" in reason
    assert kept_files(data_dir) == []


async def test_xml_entities_in_a_workbook_are_refused(uploads: Uploads, chat: str, tmp_path: Path) -> None:
    laughs = xlsx_with_entities(tmp_path / "made-laughs.xlsx")
    await refused(uploads, chat, "laughs.xlsx", laughs, "could not be opened")  # defusedxml forbids entities


async def test_encrypted_and_malformed_pdfs_are_refused(uploads: Uploads, chat: str, data_dir: Path) -> None:
    await refused(uploads, chat, "secret.pdf", encrypted_pdf(), "password-protected")
    await refused(uploads, chat, "broken.pdf", b"%PDF-1.7\n" + os.urandom(5000), "damaged")
    await refused(uploads, chat, "cut.pdf", pdf(["some text"])[:200], "damaged")
    assert kept_files(data_dir) == []


def gif_with_comment(comment: bytes) -> bytes:
    """A valid 1x1 GIF whose comment extension carries `comment` (the classic GIF/script polyglot)."""
    header = b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    blocks = b"".join(bytes([len(comment[i:i + 255])]) + comment[i:i + 255] for i in range(0, len(comment), 255))
    image = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return header + b"\x21\xfe" + blocks + b"\x00" + image + b"\x3b"


async def test_a_gif_that_is_also_html_is_only_ever_an_image(uploads: Uploads, chat: str) -> None:
    polyglot = gif_with_comment(b"<html><body><script>alert(document.cookie)</script></body></html>")
    file = await uploads.accept(ADA, chat, "page.html", polyglot)
    assert (file.kind, file.mime) == ("image", "image/gif")
    assert await uploads.retrieve(ADA, chat, "alert document cookie script", limit=5) == []
    await refused(uploads, chat, "x.gif", b"GIF89a<html><script>alert(1)</script></html>", "damaged")


async def test_html_passages_hold_its_text_and_never_its_scripts(uploads: Uploads, chat: str) -> None:
    page = b"""<!DOCTYPE html><html><head><title>t</title><script>var stolen = document.cookie;</script>
    <style>body { background: url(javascript:alert(2)) }</style></head><body onload="alert(3)">
    <h1>Expenses</h1><p>Receipts are submitted within <b>thirty days</b>.</p>
    <img src=x onerror="alert(4)"><script type="module">fetch('/steal')</script><noscript>enable js</noscript>
    <svg><script>alert(5)</script></svg><iframe srcdoc="<script>alert(6)</script>"></iframe>
    <p>Late receipts need approval &amp; a reason &lt;in writing&gt;.</p></body></html>"""
    file = await uploads.accept(ADA, chat, "expenses.txt", page)
    assert (file.kind, file.mime) == ("document", "text/html")
    passages = await uploads.retrieve(ADA, chat, "receipts submitted approval", limit=5)
    text = " ".join(passage.text + passage.title for passage in passages)
    assert "thirty days" in text and "Late receipts need approval & a reason <in writing>." in text
    for leaked in ("alert", "cookie", "fetch", "steal", "javascript", "onerror", "enable js", "<script"):
        assert leaked not in text


async def test_an_svg_is_markup_never_an_image_and_its_script_is_dropped(uploads: Uploads, chat: str) -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    file = await uploads.accept(ADA, chat, "logo.png", svg)
    assert (file.kind, file.mime, file.meta["passages"]) == ("document", "image/svg+xml", 0)
    assert await uploads.retrieve(ADA, chat, "alert script", limit=5) == []


async def test_programs_and_archives_are_refused_other_binaries_kept(uploads: Uploads, chat: str) -> None:
    await refused(uploads, chat, "tool.csv", b"\x7fELF\x02\x01\x01" + bytes(200), "Programs")
    await refused(uploads, chat, "setup.txt", b"MZ\x90\x00\x03" + bytes(200), "Programs")
    await refused(uploads, chat, "data.csv", b"\x1f\x8b\x08\x00" + os.urandom(100), "Archives")
    await refused(uploads, chat, "data.zip", _zip(), "Archives")
    file = await uploads.accept(ADA, chat, "blob.csv", b"\x00\x01\x02" + os.urandom(1000))
    assert (file.kind, file.mime) == ("other", "application/octet-stream")


def _zip() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.csv", "a,b\n1,2\n")
    return out.getvalue()
