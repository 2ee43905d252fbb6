"""Helpers that tests and benchmarks run as real processes (e.g. an MCP server written with the SDK)."""
