"""MCP support."""
