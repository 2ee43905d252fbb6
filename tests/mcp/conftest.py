"""Fixtures for the MCP tests: an HTTP test server per test, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mcp.servers import HttpServer


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    server = HttpServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()
