"""Escapes from the python tool's sandbox, each tried for real in every isolation mode that works here.

Modes: `bwrap` (bubblewrap), `landlock` (the fallback: Landlock plus an empty network namespace) and
`landlock-only` (Landlock alone, as inside a container that forbids namespaces). In CI (CI=true) a mode
that does not work fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from textwrap import dedent

import pytest

from galaxy_chat.settings import load_settings
from tests.tool_doubles import make_context
from tools.base import ToolResult
from tools.python_exec import CodeExecutionTool
from tools.sandbox.limits import Limits
from tools.sandbox.python_sandbox import PythonSandbox

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-galaxy-test-secret-4242"
MODES = ["bwrap", "landlock", "landlock-only"]


def make_sandbox(mode: str, hidden: list[Path], **limits: object) -> PythonSandbox:
    options: dict = {"wall_s": 8.0, "cpu_s": 3, "max_processes": 16, "disk_mb": 64, **limits}
    sandbox = PythonSandbox(Limits(**options), mode="landlock" if mode.startswith("landlock") else mode,  # type: ignore[arg-type]
                            hidden=hidden, net_namespace=mode != "landlock-only")
    if sandbox.active is None:
        message = f"{mode} sandbox does not work here: {sandbox.startup_warning()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sandbox


@pytest.fixture(params=MODES)
def run(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`await run(code, **limits)` runs code in the mode under test, with the app root at tmp_path/app."""
    app = tmp_path / "app"
    app.mkdir()
    (app / ".env").write_text(f"LLM_API_KEY={SECRET}\n")
    monkeypatch.chdir(app)
    monkeypatch.setenv("LLM_API_KEY", SECRET)  # the app's own environment holds the key
    settings = load_settings(env_file=None)

    async def run_code(code: str, **limits: object) -> ToolResult:
        sandbox = make_sandbox(request.param, [app, ROOT], **limits)
        tool = CodeExecutionTool(settings, sandbox=sandbox)
        result = await tool.run(tool.Params(code=code), make_context(settings))
        assert result.reduced_isolation == (request.param != "bwrap")
        run_code.sandbox = sandbox  # type: ignore[attr-defined]
        return result

    run_code.app = app  # type: ignore[attr-defined]
    return run_code


def probe(paths: list[str]) -> str:
    """Code that tries to read each path (file or folder) and prints what happened."""
    return f"import os\nfor path in {paths!r}:\n" + dedent("""
        try:
            print(path, 'LEAKED', os.listdir(path) if os.path.isdir(path) else open(path).read()[:200])
        except OSError as exc:
            print(path, 'DENIED', type(exc).__name__)
    """).replace("\n", "\n    ")


async def test_the_apps_env_file_and_checkout_are_invisible(run) -> None:
    paths = [str(run.app / ".env"), str(run.app), str(ROOT / ".env.example"), str(ROOT / "README.md"), str(ROOT)]
    result = await run(probe(paths))
    assert not result.is_error, result.text
    assert result.text.count("DENIED") == len(paths), result.text
    assert SECRET not in result.text and "LEAKED" not in result.text


async def test_etc_shadow_is_unreadable(run) -> None:
    result = await run(probe(["/etc/shadow", "/etc/passwd", "/etc/hostname"]))
    assert result.text.count("DENIED") == 3 and "LEAKED" not in result.text, result.text


async def test_the_apps_port_on_loopback_is_unreachable(run) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
                "    print('CONNECTED')\nexcept OSError as exc:\n    print('BLOCKED', type(exc).__name__)\n")
        result = await run(code)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever arrived
    assert "BLOCKED" in result.text and "CONNECTED" not in result.text, result.text


async def test_the_api_key_is_not_in_any_environment_it_can_read(run) -> None:
    """The key is in this process's environment (inherited unless cleared) and in the start-up environment of
    a stand-in app process, which /proc/<pid>/environ shows to anyone allowed to read it."""
    assert os.environ["LLM_API_KEY"] == SECRET
    app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ})
    try:
        code = dedent(f"""
            import glob, os
            print('ENV', sorted(os.environ))
            for path in ['/proc/{app.pid}/environ', '/proc/%d/environ' % os.getppid(), *glob.glob('/proc/*/environ')]:
                try:
                    print(path, open(path, 'rb').read())
                except OSError as exc:
                    print(path, 'DENIED', type(exc).__name__)
        """)
        result = await run(code)
    finally:
        app.kill()
        app.wait()
    assert "ENV [" in result.text and f"/proc/{app.pid}/environ" in result.text, result.text
    assert SECRET not in result.text and "LLM_API_KEY" not in result.text


async def test_a_fork_bomb_is_contained_and_cleaned_up(run) -> None:
    began = time.monotonic()
    result = await run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                       wall_s=3.0, max_processes=12)
    assert time.monotonic() - began < 10
    assert result.is_error and "timed out after 3 s" in result.text
    group = getattr(run.sandbox, "last_cgroup", None)
    if group is not None:
        assert not group.exists(), "the run's cgroup (and so a process of it) survived the call"


async def test_forks_stop_at_the_process_limit(run) -> None:
    code = ("import os, time\nkids = 0\ntry:\n    for _ in range(100):\n        if os.fork() == 0:\n"
            "            time.sleep(60)\n            os._exit(0)\n        kids += 1\n"
            "except OSError as exc:\n    print('REFUSED', exc.errno)\nprint('KIDS', kids)\n")
    began = time.monotonic()
    result = await run(code, max_processes=12)
    if run.sandbox.cgroup_problem:
        pytest.skip(f"no pids cgroup here: {run.sandbox.cgroup_problem}")
    assert "REFUSED 11" in result.text, result.text  # EAGAIN from pids.max
    kids = int(result.text.split("KIDS ")[1].split()[0])
    assert 0 < kids < 12
    assert time.monotonic() - began < 5, "the sleeping children were not killed when the run ended"


async def test_allocating_4_gb_fails_with_memory_error(run) -> None:
    result = await run("block = bytearray(4 * 1024 ** 3)\nprint('ALLOCATED')")
    assert result.is_error and "MemoryError" in result.text and "ALLOCATED" not in result.text


async def test_an_infinite_loop_stops_at_the_cpu_limit(run) -> None:
    began = time.monotonic()
    result = await run("while True:\n    pass\n", cpu_s=1)
    assert time.monotonic() - began < 6
    assert result.is_error and "CPU time limit of 1 s" in result.text, result.text


async def test_writing_a_1_gb_file_is_stopped(run) -> None:
    code = ("import os\nwritten = 0\ntry:\n    with open('big.bin', 'wb') as file:\n        for _ in range(1024):\n"
            "            file.write(b'0' * 2 ** 20)\n            written += 1\n"
            "except OSError as exc:\n    print('STOPPED', type(exc).__name__, exc.errno)\nprint('MB', written)\n")
    result = await run(code, disk_mb=32)
    assert "STOPPED" in result.text or "grew over 32 MB" in result.text, result.text
    assert "MB 1024" not in result.text


async def test_printing_100_mb_is_capped_and_does_not_block(run) -> None:
    began = time.monotonic()
    result = await run("import sys\nline = 'x' * 999_999 + '\\n'\nfor _ in range(100):\n    sys.stdout.write(line)\n"
                       "print('END', file=sys.stderr)\n", output_bytes=64 * 1024)
    assert time.monotonic() - began < 8
    assert not result.is_error and "[output truncated]" in result.text and "END" in result.text
    assert len(result.text) < 40_000  # the model's copy
    assert len(result.widgets[0].text) < 70 * 1024  # the person's copy: 64 KB and a few words


async def test_a_shell_cannot_be_started(run) -> None:
    """Contained means: no shell binary exists or may be executed inside; the one interpreter that can be
    started again (Python itself) runs under the same restrictions."""
    code = dedent("""
        import subprocess, sys
        for argv in (['sh', '-c', 'echo SHELL'], ['/bin/sh', '-c', 'echo SHELL'], ['/usr/bin/env', 'echo', 'SHELL']):
            try:
                print(subprocess.run(argv, capture_output=True, text=True).stdout)
            except OSError as exc:
                print('NO SHELL', type(exc).__name__)
        reader = [sys.executable, '-c', 'print(open("/etc/shadow").read())']
        inner = subprocess.run(reader, capture_output=True, text=True)
        print('INNER', inner.returncode, inner.stderr[-80:])
    """)
    result = await run(code)
    assert result.text.count("NO SHELL") == 3 and "SHELL\n" not in result.text.replace("NO SHELL", ""), result.text
    assert "INNER 1" in result.text and ("PermissionError" in result.text or "FileNotFoundError" in result.text)


async def test_the_python_install_and_venv_are_read_only(run) -> None:
    name = f"galaxy-escape-{uuid.uuid4().hex}"
    code = dedent(f"""
        import sys
        for folder in (sys.prefix, sys.base_prefix, '/usr/lib'):
            try:
                open(folder + '/{name}', 'w')
                print('WROTE', folder)
            except OSError as exc:
                print('DENIED', type(exc).__name__)
    """)
    written = [Path(folder) / name for folder in (sys.prefix, sys.base_prefix, "/usr/lib")]
    try:
        result = await run(code)
        assert not any(path.exists() for path in written)
    finally:
        for path in written:  # an escape must not leave litter behind
            path.unlink(missing_ok=True)
    assert result.text.count("DENIED") == 3 and "WROTE" not in result.text, result.text


async def test_the_app_process_cannot_be_signalled(run) -> None:
    code = f"import os, signal\ntry:\n    os.kill({os.getpid()}, 0)\n    print('SIGNAL OK')\nexcept OSError as exc:\n" \
           "    print('DENIED', type(exc).__name__)\n"
    result = await run(code)
    assert "DENIED" in result.text and "SIGNAL OK" not in result.text, result.text
