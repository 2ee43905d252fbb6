"""Tests of the MCP client, its connection manager and our MCP endpoint, against real servers."""
