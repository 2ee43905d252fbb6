"""Everything the app runs on, built once from Settings at start and handed to routes and pages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from access.loader import load_policy
from access.policy import Kind, Policy
from galaxy_chat.coord import Coordinator, coordinator_for
from galaxy_chat.core.chat_files import ConversationFiles
from galaxy_chat.core.chat_session import ChatSession
from galaxy_chat.core.drain import Drain
from galaxy_chat.core.engine import ChatEngine
from galaxy_chat.core.feedback import FeedbackLog
from galaxy_chat.core.history import History
from galaxy_chat.core.history_restore import restore
from galaxy_chat.core.limits import RateLimiter, RunSlots, SendRefused
from galaxy_chat.core.live_chats import LiveChats
from galaxy_chat.core.model_choice import ModelChoice, default_model, model_choices, model_notice
from galaxy_chat.core.session_log import SessionLogs, secrets_of
from galaxy_chat.core.session_registry import SessionRegistry
from galaxy_chat.core.titles import TitleWriter
from galaxy_chat.core.tool_runner import NoTools
from galaxy_chat.core.turn import SessionRules, Turn
from galaxy_chat.data import DataSources, Retriever, context_block
from galaxy_chat.data.sample_database import ensure_sample_database
from galaxy_chat.files import Uploads
from galaxy_chat.llm.llms_file import LoadedModels
from galaxy_chat.llm.model_health import HealthMonitor
from galaxy_chat.llm.model_registry import ModelRegistry
from galaxy_chat.mcp import McpConnections
from galaxy_chat.mcp.mcp_tools import McpToolSource, check_names
from galaxy_chat.mcp.servers_file import load_mcp_servers
from galaxy_chat.mcp.summary import server_lines, servers_markdown
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.events import ToolCallFinished
from galaxy_chat.vocabulary.passages import Passage
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import CallTool
from tools.base import ToolContext
from tools.tool_registry import BoundTools, ToolRegistry

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    models: ModelRegistry
    health: HealthMonitor
    tools: ToolRegistry
    policy: Policy
    logs: SessionLogs
    engine: ChatEngine
    feedback: FeedbackLog
    data: DataSources  # configured data sources and their search index
    retriever: Retriever  # policy-checked retrieval over `data`
    mcp: McpConnections  # the configured MCP servers, whose tools are in `tools` while connected
    history: History | None = None  # the conversation history, opened at start (`start_history`)
    titles: TitleWriter | None = None
    uploads: Uploads | None = None  # files attached to chats, opened with the history (they are kept with it)
    sessions: SessionRegistry = field(init=False)
    limiter: RateLimiter = field(init=False)
    slots: RunSlots = field(init=False)
    coordinator: Coordinator = field(init=False)  # what replicas share (in-process without REDIS_URL)
    drain: Drain = field(init=False)  # before a stop: new messages refused, running replies may finish

    def __post_init__(self) -> None:
        self.coordinator = coordinator_for(self.settings.redis_url.get_secret_value())
        self.limiter = RateLimiter(self.settings.messages_per_minute, coordinator=self.coordinator)
        self.slots = RunSlots(self.coordinator)
        self._history_opened = asyncio.Event()
        live = (LiveChats(self.coordinator, self.settings.session_idle_minutes * 60, lambda: self.history)
                if self.coordinator.shared else None)
        self.sessions = SessionRegistry(self.new_session, self.settings.session_idle_minutes, self.restore_session,
                                        live)
        self._commands: set[ChatSession] = set()  # the sessions of commands and tool calls from outside a page
        self.drain = Drain(self.limiter, self.slots, lambda: [*self.sessions.sessions(), *self._commands],
                           self.settings.drain_timeout_s)

    @classmethod
    def build(cls, settings: Settings, loaded: LoadedModels | None = None, policy: Policy | None = None) -> Services:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_sample_database(settings.data_dir)  # the SQL tools describe its schema to the model
        # Before any thread starts: a bad permissions or data-sources file raises PolicyError / DataSourceError.
        policy = policy if policy is not None else load_policy(settings)
        data = DataSources.from_settings(settings)
        models = ModelRegistry.from_settings(settings, loaded)
        logs = SessionLogs.from_settings(settings, models.models)
        tools = ToolRegistry.discover(settings)
        for name, warning in tools.warnings().items():
            log.warning("tool %s: %s", name, warning)
        servers = load_mcp_servers(settings)
        check_names(servers, tools.names())
        mcp = McpConnections(servers)
        tools.add_source(McpToolSource(settings, mcp, servers))
        engine = ChatEngine(settings, models.provider, NoTools(), logs.open)
        return cls(settings, models, HealthMonitor(models, settings), tools, policy, logs, engine,
                   FeedbackLog(settings.log_dir), data, Retriever(data, policy, settings.retrieval_top_k), mcp)

    def models_for(self, user: User) -> list[str]:
        return self.policy.models_for(user, self.models.names)

    def tools_for(self, user: User) -> list[str]:
        return self.policy.tools_for(user, self.tools.names())

    def mcp_lines_for(self, user: User) -> list[str]:
        """The MCP servers' state as the drawer shows it to this person."""
        return server_lines(self.mcp.states(), lambda name: self.policy.can_use(user, "tool", name))

    def data_sources_for(self, user: User) -> list[str]:
        return self.policy.data_sources_for(user, self.data.ids())

    def default_model_for(self, user: User) -> str:
        return default_model(self.models, self.models_for(user))

    def model_choices(self, user: User) -> list[ModelChoice]:
        return model_choices(self.models, self.models_for(user))

    def model_notice(self, user: User, model: str) -> str:
        return model_notice(self.models, self.health, self.models_for(user), model)

    def tool_binder(self, user: User) -> Callable[[str, list[str]], BoundTools]:
        def bind(session_id: str, selected: list[str]) -> BoundTools:
            context = ToolContext(user=user, session_id=session_id, settings=self.settings, policy=self.policy,
                                  files=self.uploads.for_chat(user.email, session_id) if self.uploads else None)
            return self.tools.bind(context, selected)

        return bind

    def rules_for(self, user: User) -> SessionRules:
        def can_use(kind: Kind, name: str) -> bool:
            known = {"tool": self.tools.names(), "model": self.models.names, "data_source": self.data.ids()}
            return name in known[kind] and self.policy.can_use(user, kind, name)

        async def retrieve(question: str, sources: list[str]) -> tuple[list[Passage], str]:
            passages = await self.retriever.retrieve(question, sources, user)
            return passages, context_block(passages)

        def servers() -> str:
            return servers_markdown(self.mcp.states(), lambda name: can_use("tool", name))

        def vision(model: str) -> bool:
            config = self.models.get(model)
            return config is not None and config.vision

        return SessionRules(can_use, self.limiter, self.settings.max_message_chars, self.slots, retrieve, servers,
                            lambda conversation_id: self.files_of(user, conversation_id), vision,
                            self.settings.retrieval_top_k)

    def files_of(self, user: User, conversation_id: str) -> ConversationFiles | None:
        return ConversationFiles(self.uploads, user.email, conversation_id) if self.uploads is not None else None

    async def start_history(self) -> None:
        try:
            self.history = await History.open(self.settings.database_url.get_secret_value(),
                                              self.settings.data_dir, self.settings.history_retention_days)
            self.history.start()
            self.uploads = Uploads.from_settings(self.settings, self.history.store)
            self.history.on_removal(self.uploads.sweep)  # a removed chat's files go with it
            if self.settings.titles_by_model:
                self.titles = TitleWriter(self.history, self.models.provider)
        finally:  # pages wait for this (an async start-up handler runs beside the first requests)
            self._history_opened.set()

    async def opened_history(self, timeout_s: float = 30.0) -> History | None:
        """The history once start-up has opened it (None if it could not be)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._history_opened.wait(), timeout_s)
        return self.history

    def new_session(self, user: User, origin: str = "page") -> ChatSession:
        # New models discovered later (Ollama) may carry keys too: keep the redaction list complete.
        self.logs.add_secrets(*secrets_of(self.settings, self.models.models))
        session = ChatSession(self.engine, user, self.default_model_for(user), self.tool_binder(user),
                              self.rules_for(user), tool_names=self.tools_for(user), origin=origin)
        if self.history is not None and origin == "page":  # chats are kept; a command over HTTP only logged
            session.recorder = self.history.recorder(user.email, session.id)
            if self.titles is not None:
                self.titles.watch(session)
        return session

    async def restore_session(self, user: User, conversation_id: str) -> ChatSession | None:
        """The user's stored chat as a live session (None when there is no such chat of theirs)."""
        if self.history is None or (view := await self.history.load(user.email, conversation_id)) is None:
            return None
        restored = await restore(self.history, user.email, view, self.engine.system_prompt())
        turns = restored[1]
        permitted = self.models_for(user)
        model = turns[-1].model if turns and turns[-1].model in permitted else self.default_model_for(user)
        last = view.messages[-1].id if view.messages else None
        return ChatSession(self.engine, user, model, self.tool_binder(user), self.rules_for(user),
                           tool_names=view.meta.tools, source_names=view.meta.data_sources, restored=restored,
                           recorder=self.history.recorder(user.email, view.meta.id, last))

    async def run_command(self, user: User, text: str) -> tuple[str, Turn]:
        """A /command from outside a page (`POST /api/commands`): a session of its own, never shown on a page,
        with the same rules as the page's (limits, one run at a time, permissions) and its own log.
        Raises SendRefused like `ChatSession.send`."""
        session = self.new_session(user, origin="api")
        self._commands.add(session)  # a drain that runs out of time stops it like a page's reply
        try:
            turn = session.send(text)
            await session.wait()
            return session.id, turn
        finally:  # also when the caller goes away mid-command: the run is stopped and the log closed
            self._commands.discard(session)
            session.close()

    async def run_tool(self, user: User, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """One tool call from outside a page (an MCP client at /mcp): the front door of `run_command`, with
        the person's permissions, limits and a session log of its own. Returns (text, is_error)."""
        session = self.new_session(user, origin="mcp")
        self._commands.add(session)
        try:
            turn = session.send(f"▶ {name}", CallTool(tool=name, arguments=arguments))
            await session.wait()
        except SendRefused as refusal:
            return str(refusal), True
        finally:
            self._commands.discard(session)
            session.close()
        finished = next((e for e in turn.events if isinstance(e, ToolCallFinished)), None)
        return (finished.text, finished.is_error) if finished else ("The tool did not run.", True)

    async def aclose(self) -> None:
        await self.mcp.stop()
        await self.sessions.stop()
        if self.sessions.live is not None:
            await self.sessions.live.aclose()
        if self.history is not None:  # after the sessions: their last rows are queued by now
            await self.history.aclose()
        await self.health.stop()
        await self.models.aclose()
        await self.coordinator.aclose()
        self.logs.close()
