"""Observability: Prometheus metrics, optional OpenTelemetry traces, JSON logs and the event-loop lag timer.

A low floor (above settings and vocabulary only), so core, llm, tools and store can record into it at their
event boundaries. Nothing here imports NiceGUI or any floor above it.
"""
