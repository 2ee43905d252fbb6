"""Helpers for tests and benchmarks that need real services (never imported by the app itself)."""
