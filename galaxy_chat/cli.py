"""`galaxy-chat`: the console entry point. Settings problems end start-up with one line, not a traceback."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
from types import FrameType

from access.loader import PolicyError, load_policy
from galaxy_chat.data import DataSourceError, DataSources
from galaxy_chat.llm.llms_file import ModelConfigError, load_models
from galaxy_chat.mcp.mcp_tools import check_names
from galaxy_chat.mcp.server_config import McpConfigError
from galaxy_chat.mcp.servers_file import load_mcp_servers
from galaxy_chat.observability.log_format import configure_logging as configure_log_format
from galaxy_chat.settings import Settings, SettingsError, load_settings
from galaxy_chat.store import commands as store_commands
from galaxy_chat.store.errors import StoreError
from tools.tool_registry import ToolConfigError, discover_tool_classes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="galaxy-chat", description="Run the Galaxy Chat web app.")
    parser.add_argument("--host", help="address to bind (overrides HOST)")
    parser.add_argument("--port", help="port to listen on (overrides PORT)")
    parser.add_argument(
        "--test-mode", action="store_true", default=None, help="sign everyone in as TEST_EMAIL (overrides TEST_MODE)"
    )
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def startup_problem(settings: Settings) -> str | None:
    if settings.test_mode and not is_loopback(settings.host) and not settings.allow_test_mode_on_network:
        return (
            f"refusing to start in test mode on {settings.host}: anyone on the network could sign in "
            "(use a loopback HOST or set ALLOW_TEST_MODE_ON_NETWORK=true)"
        )
    return None


def configure_logging(settings: Settings) -> None:
    configure_log_format(settings.log_level, settings.log_format)  # LOG_FORMAT=json: one JSON object per line
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # the MCP client's: a line per request otherwise


def _exit_cleanly(signum: int, _frame: FrameType | None) -> None:
    logging.getLogger("galaxy_chat").info("stopped by %s", signal.Signals(signum).name)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in store_commands.COMMANDS:  # galaxy-chat db upgrade | history import LOG_DIR
        store_commands.main(argv)
        return
    args = parse_args(argv)
    try:
        settings = load_settings(host=args.host, port=args.port, test_mode=args.test_mode)
        # Every configuration file is read before NiceGUI starts, so a bad one is one line, not a traceback.
        models = load_models(settings)
        policy = load_policy(settings)
        DataSources.from_settings(settings)
        check_names(load_mcp_servers(settings), [cls.name for cls in discover_tool_classes()])
        store_commands.migrate_at_start(settings)  # the history database at this version's schema
    except (SettingsError, ModelConfigError, PolicyError, DataSourceError, McpConfigError, ToolConfigError,
            StoreError) as exc:
        sys.exit(f"galaxy-chat: {exc}")
    if problem := startup_problem(settings):
        sys.exit(f"galaxy-chat: {problem}")
    configure_logging(settings)
    from galaxy_chat.app import serve  # imported late: NiceGUI's import is slow and not needed for a bad config

    # uvicorn shuts down gracefully, then re-raises the signal it caught: these handlers turn that into exit 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    serve(settings, models, policy)


if __name__ == "__main__":
    main()
