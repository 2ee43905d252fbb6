"""The python tool sees exactly its chat's files in data/ (read-only), and what it writes to out/ comes back;
tried in every isolation mode that works here (bubblewrap, the Landlock fallback, Landlock alone)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from galaxy_chat.files import Uploads
from galaxy_chat.settings import load_settings
from galaxy_chat.store.sql_store import SqlHistoryStore
from galaxy_chat.vocabulary.widgets import File, Image
from tests.files.conftest import ADA, BOB
from tests.files.makers import png
from tests.tool_doubles import make_context
from tests.unit.test_sandbox_escapes import MODES, ROOT, make_sandbox
from tools.base import ToolResult
from tools.python_exec import CodeExecutionTool

SALES = b"region,units\nEMEA,5\nAPAC,7\nAMER,11\n"


@pytest.fixture(params=MODES)
def run(request, uploads: Uploads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`await run(code, owner, chat)` runs code in the mode under test as a call of that chat."""
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    settings = load_settings(env_file=None)

    async def run_code(code: str, owner: str, chat: str) -> ToolResult:
        sandbox = make_sandbox(request.param, [app, ROOT, uploads.layout.root])
        tool = CodeExecutionTool(settings, sandbox=sandbox)
        context = dataclasses.replace(make_context(settings, owner), files=uploads.for_chat(owner, chat))
        return await tool.run(tool.Params(code=code), context)

    run_code.mode = request.param  # type: ignore[attr-defined]
    return run_code


async def test_the_code_reads_the_chats_files_with_pandas(run, uploads: Uploads, chat: str) -> None:
    await uploads.accept(ADA, chat, "sales.csv", SALES)
    await uploads.accept(ADA, chat, "../notes.txt", b"hello")
    code = ("import os, pandas as pd\nprint(sorted(os.listdir('data')))\n"
            "print(pd.read_csv('data/sales.csv').units.sum())\n")
    if run.mode == "bwrap":
        code += "print(open('/data/notes.txt').read())\n"
    result = await run(code, ADA, chat)
    assert not result.is_error, result.text
    assert "['notes.txt', 'sales.csv']\n23" in result.text
    assert run.mode != "bwrap" or "hello" in result.text


async def test_other_chats_and_other_peoples_uploads_stay_out_of_reach(run, uploads: Uploads, chat: str,
                                                                       store: SqlHistoryStore) -> None:
    mine = await uploads.accept(ADA, chat, "mine.csv", SALES)
    other_chat = await store.create_conversation(ADA)
    other = await uploads.accept(ADA, other_chat, "other.txt", b"another chat's secret")
    bob_chat = await store.create_conversation(BOB)
    bobs = await uploads.accept(BOB, bob_chat, "bob.txt", b"bob's secret")
    paths = [str(uploads.path_of(other)), str(uploads.path_of(bobs)), str(uploads.layout.root),
             str(uploads.path_of(mine).parent), str(uploads.layout.runs_dir)]
    code = f"""import os
for path in {json.dumps(paths)}:
    try:
        print('LEAKED', path, os.listdir(path) if os.path.isdir(path) else open(path).read())
    except OSError as exc:
        print('DENIED', type(exc).__name__)
for target in ('data/mine.csv', 'data/new.csv'):
    try:
        open(target, 'a').write('x')
        print('WROTE', target)
    except OSError as exc:
        print('DENIED', type(exc).__name__)
try:
    os.remove('data/mine.csv')
    print('REMOVED')
except OSError as exc:
    print('DENIED', type(exc).__name__)
"""
    result = await run(code, ADA, chat)
    assert "LEAKED" not in result.text and "WROTE" not in result.text and "REMOVED" not in result.text
    assert result.text.count("DENIED") == len(paths) + 3
    assert uploads.path_of(mine).read_bytes() == SALES
    assert not any(uploads.layout.runs_dir.iterdir())  # the run's view is gone


async def test_files_written_to_out_come_back(run, uploads: Uploads, chat: str) -> None:
    code = f"""
open('out/summary.csv', 'w').write('region,units\\nEMEA,5\\n')
open('out/chart.png', 'wb').write({png(8, 8)!r})
open('out/blob.bin', 'wb').write(bytes(range(256)))
"""
    result = await run(code, ADA, chat)
    assert not result.is_error, result.text
    files = {widget.name: widget for widget in result.widgets if isinstance(widget, File)}
    assert files["summary.csv"].data == b"region,units\nEMEA,5\n" and files["summary.csv"].mime == "text/plain"
    assert files["blob.bin"].mime == "application/octet-stream"
    [image] = [widget for widget in result.widgets if isinstance(widget, Image)]
    assert image.alt == "chart.png" and image.mime == "image/png"
    assert "out/summary.csv" in result.text


async def test_too_many_or_too_large_outputs_are_refused_with_a_note(run, uploads: Uploads, chat: str) -> None:
    code = """
for number in range(12):
    open(f'out/part{number:02d}.txt', 'w').write(str(number))
open('out/huge.bin', 'wb').write(b'x' * (11 * 1024 * 1024))
"""
    result = await run(code, ADA, chat)
    returned = [widget.name for widget in result.widgets if isinstance(widget, File)]
    assert returned == [f"part{number:02d}.txt" for number in range(10)]
    assert "out/huge.bin was not returned: 11.0 MB is over the limit" in result.text
    assert "only the first 10 files of out/ are returned" in result.text
