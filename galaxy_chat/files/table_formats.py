"""Reading the table formats row by row: CSV/TSV, JSON lines, Excel (.xlsx) and Parquet.

Each reader yields (table name, header, rows) with rows as a lazy iterator, so a large file is never held
in memory. Lines are read with a length cap: a 40 MB line is refused after 1 MB has been read, not split
into millions of cells. An .xlsx is a zip: its entries' declared sizes are checked before openpyxl opens
it (a zip bomb is refused unopened), and zipfile never inflates an entry past its declared size.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import IO, Any

from galaxy_chat.files.detect import Detected
from galaxy_chat.files.errors import FileRefused
from galaxy_chat.files.names import stem
from galaxy_chat.files.table_writer import SAMPLE_ROWS, plain, value_type

MAX_LINE_CHARS = 1_000_000
ZIP_MAX_TOTAL = 300 * 1024 * 1024  # bytes all entries of an .xlsx may inflate to
ZIP_MAX_RATIO = 100  # real spreadsheets compress 5-20x
ZIP_MAX_ENTRIES = 10_000
TableRows = tuple[str, list[Any], Iterator[Sequence[Any]]]

csv.field_size_limit(MAX_LINE_CHARS)  # a quoted cell spanning lines could otherwise grow past the line cap


def capped_lines(stream: IO[str]) -> Iterator[str]:
    number = 0
    while line := stream.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise FileRefused(f"Line {number:,} is longer than {MAX_LINE_CHARS:,} characters: this does not look "
                              "like a table.")
        yield line


def _csv(path: Path, detected: Detected, name: str) -> Iterator[TableRows]:
    with path.open(encoding=detected.encoding, newline="") as stream:
        reader = csv.reader(capped_lines(stream), delimiter=detected.delimiter or ",")
        try:
            header = next(reader, None)
            if header is None:
                raise FileRefused("This file has no rows.")
            if all(value_type(cell) in ("INTEGER", "REAL") for cell in header):  # no header: data from row 1
                yield name, [f"column_{number}" for number in range(1, len(header) + 1)], chain([header], reader)
            else:
                yield name, header, reader  # csv.Error while reading rows: processing.py says so
        except csv.Error as exc:
            raise FileRefused(f"This file could not be read as a table: {exc}.") from None


def _jsonl(path: Path, detected: Detected, name: str) -> Iterator[TableRows]:
    with path.open(encoding=detected.encoding, newline="") as stream:
        lines = ((number, line) for number, line in enumerate(capped_lines(stream), start=1) if line.strip())
        sample: list[dict[str, Any]] = []
        for number, line in lines:
            sample.append(_object(number, line))
            if len(sample) == SAMPLE_ROWS:
                break
        keys = list(dict.fromkeys(key for row in sample for key in row))  # later new keys are left out

        def rows() -> Iterator[list[Any]]:
            for row in sample:
                yield [plain(row.get(key)) for key in keys]
            for number, line in lines:
                row = _object(number, line)
                yield [plain(row.get(key)) for key in keys]

        yield name, keys, rows()


def _object(number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise FileRefused(f"Line {number:,} is not a JSON object: every line of a JSON-lines file must be one.")
    return value


def check_zip(path: Path) -> None:
    """Refuse an archive that would inflate far beyond its size (a zip bomb) before anything opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("This spreadsheet is damaged (its zip structure cannot be read).") from None
    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if len(entries) > ZIP_MAX_ENTRIES or total > ZIP_MAX_TOTAL or total > ZIP_MAX_RATIO * max(packed, 1):
        raise FileRefused(f"This spreadsheet would unpack to {total / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB: "
                          "refused as a possible zip bomb.")


def _xlsx(path: Path, _detected: Detected, name: str) -> Iterator[TableRows]:
    import openpyxl

    check_zip(path)
    with path.open("rb") as stream:  # a file object: openpyxl would judge a path by its extension
        try:
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise FileRefused(f"This spreadsheet could not be opened ({type(exc).__name__}).") from None
        try:
            sheets = book.worksheets
            for sheet in sheets:
                rows = sheet.iter_rows(values_only=True)
                header = next((row for row in rows if any(cell is not None for cell in row)), None)
                if header is None:
                    continue
                while header and header[-1] is None:  # trailing empty header cells: formatting, not columns
                    header = header[:-1]
                table = name if len(sheets) == 1 else f"{name} {sheet.title}"
                yield table, list(header), ([plain(cell) for cell in row] for row in rows)
        finally:
            book.close()


def _parquet(path: Path, _detected: Detected, name: str) -> Iterator[TableRows]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FileRefused("Parquet files cannot be read here: this server was installed without pyarrow "
                          "(the datasci extra).") from None
    try:
        parquet = pq.ParquetFile(path)
        header = list(parquet.schema_arrow.names)
    except Exception as exc:  # pyarrow's ArrowInvalid and friends
        raise FileRefused(f"This Parquet file could not be read ({type(exc).__name__}).") from None

    def rows() -> Iterator[list[Any]]:
        try:
            for batch in parquet.iter_batches(batch_size=5000):
                columns = [batch.column(index).to_pylist() for index in range(batch.num_columns)]
                for row in zip(*columns, strict=True):
                    yield [plain(value) for value in row]
        except Exception as exc:
            raise FileRefused(f"This Parquet file could not be read ({type(exc).__name__}).") from None

    yield name, header, rows()


READERS = {"csv": _csv, "jsonl": _jsonl, "xlsx": _xlsx, "parquet": _parquet}


def read_tables(path: Path, detected: Detected, name: str) -> Iterator[TableRows]:
    """(table name, header, rows) of each table in the file; names are the file's stem (and the sheet's)."""
    return READERS[detected.format](path, detected, stem(name))
