"""Shared fixtures: a clean environment per test, the simulated app, and the app as a real subprocess."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from nicegui import app as nicegui_app
from nicegui.testing.user import User
from nicegui.testing.user_simulation import user_simulation

from galaxy_chat.data.sample_database import build_sample_database
from galaxy_chat.llm.provider import create_http_client
from galaxy_chat.testing.app_process import SETTING_NAMES, AppProcess, free_port
from galaxy_chat.testing.llm_server import ScriptedServer
from galaxy_chat.testing.postgres import PostgresServer, find_bin_dir
from tests.engine_helpers import Rig, rig_factory

ROOT = Path(__file__).resolve().parent.parent
MAIN_FILE = ROOT / "tests" / "app_main.py"


# FastAPI nests the app's lifespan once more for every included router, and NiceGUI's reset between simulated
# apps leaves it: restored before each one, or a few hundred page tests overflow the stack (RecursionError).
FIRST_LIFESPAN = nicegui_app.router.lifespan_context

LAYERS = ("unit", "page", "e2e", "store", "mcp", "files", "coord")  # the folders under tests/, each also a marker


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = item.path.parent.name
        if layer in LAYERS:
            item.add_marker(layer)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Everything imported so far lives for the whole run: keep it out of the collections NiceGUI's test
    # plugin forces around every simulated app (without this, two full collections cost ~0.17 s per test).
    gc.freeze()


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample database, built once by the same generator the app uses; tests copy it."""
    return build_sample_database(tmp_path_factory.mktemp("built") / "sample.db")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, built_db: Path) -> Path:
    """No setting leaks in from the developer's shell; logs and data go to this test's folder, which starts
    with the sample database the app would build (a copy: building it takes ~0.1 s)."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir(exist_ok=True)
    shutil.copyfile(built_db, tmp_path / "data" / built_db.name)
    # Hermetic: no seed models, permissions or data sources, and no Ollama probe, unless a test asks.
    monkeypatch.setenv("LLM_CONFIG_FILE", str(tmp_path / "no-llms.yml"))
    monkeypatch.setenv("PERMISSIONS_FILE", str(tmp_path / "no-permissions.yml"))  # everyone may use everything
    monkeypatch.setenv("DATA_SOURCES_FILE", str(tmp_path / "no-data-sources.yml"))
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{free_port()}")
    return tmp_path


@pytest.fixture
def simulated_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AbstractAsyncContextManager[User]]:
    """`async with simulated_app(TEST_MODE='true') as user:` runs the real app in NiceGUI's simulation."""

    @asynccontextmanager
    async def start(**env: str) -> AsyncIterator[User]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        failure: BaseException | None = None
        nicegui_app.router.lifespan_context = FIRST_LIFESPAN
        async with user_simulation(main_file=MAIN_FILE) as user:
            try:
                yield user
            except BaseException as exc:  # leave the simulation normally so its shutdown runs, then re-raise:
                failure = exc  # otherwise the app stays "started" and every later test fails for this one
        if failure is not None:
            raise failure

    return start


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[Callable[..., AppProcess]]:
    """Start `galaxy-chat` as a real subprocess on a free loopback port; stopped after the test."""
    started: list[AppProcess] = []

    def start(*args: str, **env: str) -> AppProcess:
        process = AppProcess(tmp_path, args=list(args), env=env)
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()



@pytest.fixture
async def llm_server(request: pytest.FixtureRequest) -> AsyncIterator[ScriptedServer]:
    """A real HTTP server on 127.0.0.1 speaking whatever the test scripts (see tests/llm_server.py). With
    `@pytest.mark.parametrize("llm_server", [True], indirect=True)` it keeps connections open (keep_alive)."""
    server = ScriptedServer(keep_alive=getattr(request, "param", False))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The app's shared HTTP client, as providers get it."""
    async with create_http_client() as http:
        yield http


@pytest.fixture
async def make(llm_server: ScriptedServer, tmp_path: Path) -> AsyncIterator[Callable[..., Rig]]:
    """`make(tools=..., model={...}, **settings)`: the real engine on the scripted server (tests/engine_helpers)."""
    async with rig_factory(llm_server, tmp_path) as factory:
        yield factory


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run (tests reset it); skipped outside CI when not installed."""
    if find_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql): CI must run these tests")
        pytest.skip("PostgreSQL is not installed here (no /usr/lib/postgresql/*/bin/initdb)")
    server = PostgresServer().start()
    yield server
    server.cleanup()
