"""Table files are queryable as soon as accept() returns: typed columns, a chip, a preview, a context block,
and the chat's tables.db opened through the same hardened read-only connection as the sql tool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from galaxy_chat.data.sqlite_readonly import QueryError, run_query_sync
from galaxy_chat.files import Uploads
from tests.files.conftest import ADA
from tests.files.makers import xlsx


def query(uploads: Uploads, chat: str, sql: str) -> list[tuple]:
    database = uploads.table_database(ADA, chat)
    assert database is not None
    return run_query_sync(database, sql, timeout_s=5, row_limit=1000).rows


async def test_a_csv_becomes_a_typed_table_with_a_chip_preview_and_context(uploads: Uploads, chat: str) -> None:
    lines = ["Region,Units,Price,Zip", *(f"EMEA,{i},{i * 1.5},0{i:04d}" for i in range(1, 12841))]
    file = await uploads.accept(ADA, chat, "Sales 2024.csv", "\n".join(lines).encode())
    assert (file.kind, file.mime, file.name) == ("table", "text/csv", "Sales 2024.csv")
    assert Uploads.chip(file) == "12,840 rows \u00d7 4 columns"
    table = file.meta["tables"][0]
    assert table["name"] == "sales_2024"
    assert table["columns"] == [["region", "TEXT"], ["units", "INTEGER"], ["price", "REAL"], ["zip", "TEXT"]]
    assert query(uploads, chat, "SELECT sum(units), max(price), min(zip) FROM sales_2024") == [
        (sum(range(1, 12841)), 12840 * 1.5, "00001")]
    preview = await uploads.preview(file, rows=20)
    assert preview.columns == ["region", "units", "price", "zip"] and len(preview.rows) == 20
    assert preview.total_rows == 12840 and preview.rows[0] == ["EMEA", 1, 1.5, "00001"]
    context = await uploads.tables_context(ADA, chat)
    assert "sales_2024 (12,840 rows, from Sales 2024.csv): region TEXT, units INTEGER" in context
    assert "EMEA | 1 | 1.5 | 00001" in context and len(context) <= 2000


async def test_the_tables_db_is_read_only_to_queries(uploads: Uploads, chat: str) -> None:
    await uploads.accept(ADA, chat, "t.csv", b"a,b\n1,2\n3,4\n")
    for statement in ("DELETE FROM t", "DROP TABLE t", "ATTACH '/tmp/x.db' AS x", "PRAGMA query_only=OFF"):
        with pytest.raises(QueryError):
            query(uploads, chat, statement)
    assert query(uploads, chat, "SELECT count(*) FROM t") == [(2,)]


async def test_delimiters_and_encodings_are_sniffed(uploads: Uploads, chat: str) -> None:
    tsv = "name\tcity\tamount\nJosé\tMünchen\t3\nRenée\tZürich\t4\n".encode("cp1252")
    semicolons = "\ufeffid;label\n1;première\n2;deuxième\n".encode()
    file = await uploads.accept(ADA, chat, "people.tsv", tsv)
    assert file.mime == "text/tab-separated-values"
    second = await uploads.accept(ADA, chat, "labels.txt", semicolons)
    assert second.kind == "table" and second.meta["tables"][0]["columns"][0] == ["id", "INTEGER"]
    assert query(uploads, chat, "SELECT name, city FROM people ORDER BY amount") == [
        ("José", "München"), ("Renée", "Zürich")]
    assert query(uploads, chat, "SELECT label FROM labels WHERE id = 1") == [("première",)]


async def test_excels_utf16_text_and_bytes_no_encoding_knows_are_read(uploads: Uploads, chat: str) -> None:
    utf16 = "Name\tBetrag\r\nGrüße\t3,5\r\nÄrger\t4\r\n".encode("utf-16")  # Excel's "Unicode text"
    file = await uploads.accept(ADA, chat, "export.txt", utf16)
    assert file.mime == "text/tab-separated-values"
    assert query(uploads, chat, "SELECT name FROM export ORDER BY name") == [("Grüße",), ("Ärger",)]
    mixed = b"id,label\n1,caf\xc3\xa9\n2,\x81\x8d broken \xff\n"  # no encoding decodes all of it but Latin-1
    await uploads.accept(ADA, chat, "mixed.csv", mixed)
    assert query(uploads, chat, "SELECT count(*) FROM mixed") == [(2,)]


async def test_the_same_name_twice_gets_a_second_table_and_a_second_name(uploads: Uploads, chat: str) -> None:
    first = await uploads.accept(ADA, chat, "data.csv", b"x,y\n1,2\n")
    second = await uploads.accept(ADA, chat, "data.csv", b"x,y\n5,6\n7,8\n")
    assert (first.name, second.name) == ("data.csv", "data (2).csv")
    assert (first.meta["tables"][0]["name"], second.meta["tables"][0]["name"]) == ("data", "data_2")
    assert query(uploads, chat, "SELECT count(*) FROM data_2") == [(2,)]


async def test_a_csv_without_a_header_keeps_its_first_row(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "readings.csv", b"1,20.5\n2,21.0\n3,19.5\n")
    assert file.meta["tables"][0]["columns"] == [["column_1", "INTEGER"], ["column_2", "REAL"]]
    assert query(uploads, chat, "SELECT count(*), sum(column_2) FROM readings") == [(3, 61.0)]


async def test_ragged_rows_are_padded_or_cut_and_said(uploads: Uploads, chat: str) -> None:
    file = await uploads.accept(ADA, chat, "ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9,10\n11,12,13\n")
    table = file.meta["tables"][0]
    assert table["rows"] == 4 and "2 rows had a different number of cells" in table["notes"][0]
    assert query(uploads, chat, "SELECT a, b, c FROM ragged") == [(1, 2, 3), (4, 5, None), (6, 7, 8), (11, 12, 13)]


async def test_json_lines_become_a_table(uploads: Uploads, chat: str) -> None:
    rows = [{"id": i, "name": f"n{i}", "score": i / 4, "tags": ["a", i]} for i in range(50)]
    file = await uploads.accept(ADA, chat, "events.jsonl", "\n".join(map(json.dumps, rows)).encode())
    assert (file.kind, file.mime) == ("table", "application/x-ndjson")
    assert file.meta["tables"][0]["columns"] == [["id", "INTEGER"], ["name", "TEXT"], ["score", "REAL"],
                                                  ["tags", "TEXT"]]
    assert query(uploads, chat, "SELECT tags FROM events WHERE id = 3") == [('["a", 3]',)]


async def test_an_excel_workbook_gives_a_table_per_sheet(uploads: Uploads, chat: str, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "book.xlsx", {"Q1": [["month", "revenue"], ["Jan", 10.5], ["Feb", 11]],
                                         "Q2": [["month", "revenue"], ["Apr", 12]]})
    file = await uploads.accept(ADA, chat, "Book.xlsx", path)
    assert file.kind == "table" and file.mime.endswith("spreadsheetml.sheet")
    assert [table["name"] for table in file.meta["tables"]] == ["book_q1", "book_q2"]
    assert Uploads.chip(file) == "3 rows \u00d7 4 columns in 2 tables"
    assert query(uploads, chat, "SELECT sum(revenue) FROM book_q1") == [(21.5,)]


async def test_a_parquet_file_becomes_a_table(uploads: Uploads, chat: str, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"k": list(range(7000)), "v": [f"v{i}" for i in range(7000)]}), path)
    file = await uploads.accept(ADA, chat, "metrics.parquet", path)
    assert file.meta["tables"][0]["rows"] == 7000
    assert query(uploads, chat, "SELECT v FROM metrics WHERE k = 6999") == [("v6999",)]


async def test_the_context_block_stays_within_its_cap(uploads: Uploads, chat: str) -> None:
    header = ",".join(f"a_rather_long_column_name_{i}" for i in range(40))
    row = ",".join("a long cell value that goes on and on" for _ in range(40))
    for number in range(8):
        await uploads.accept(ADA, chat, f"wide {number}.csv", f"{header}\n{row}\n{row}\n".encode())
    context = await uploads.tables_context(ADA, chat)
    assert 1500 < len(context) <= 2000 and context.startswith("Tables from files uploaded to this chat")
    assert len(await uploads.tables_context(ADA, chat, max_chars=500)) <= 500
