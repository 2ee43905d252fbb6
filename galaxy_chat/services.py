"""Everything the app runs on, built once from Settings at start and handed to routes and pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from access.loader import load_policy
from access.policy import Kind, Policy
from galaxy_chat.core.chat_session import ChatSession, SessionRules
from galaxy_chat.core.engine import ChatEngine
from galaxy_chat.core.feedback import FeedbackLog
from galaxy_chat.core.limits import RateLimiter
from galaxy_chat.core.session_log import SessionLogs, secrets_of
from galaxy_chat.core.session_registry import SessionRegistry
from galaxy_chat.core.tool_runner import NoTools
from galaxy_chat.core.users import User
from galaxy_chat.data import DataSources, Retriever, context_block
from galaxy_chat.llm.config import LoadedModels
from galaxy_chat.llm.health import HealthMonitor
from galaxy_chat.llm.registry import ModelRegistry
from galaxy_chat.settings import Settings
from tools.base import ToolContext
from tools.registry import BoundTools, ToolRegistry
from tools.sample_data import ensure_sample_database

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
    sessions: SessionRegistry = field(init=False)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.messages_per_minute)
        self.sessions = SessionRegistry(self.new_session, self.settings.session_idle_minutes)

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
        engine = ChatEngine(settings, models.provider, NoTools(), logs.open)
        return cls(settings, models, HealthMonitor(models, settings), tools, policy, logs, engine,
                   FeedbackLog(settings.log_dir), data, Retriever(data, policy, settings.retrieval_top_k))

    def models_for(self, user: User) -> list[str]:
        return self.policy.models_for(user, self.models.names)

    def tools_for(self, user: User) -> list[str]:
        return self.policy.tools_for(user, self.tools.names())

    def data_sources_for(self, user: User) -> list[str]:
        return self.policy.data_sources_for(user, self.data.ids())

    def default_model_for(self, user: User) -> str:
        permitted = self.models_for(user)
        available = [config.name for config in self.models.available() if config.name in permitted]
        if self.models.default_name in available:
            return self.models.default_name or ""
        return available[0] if available else (permitted[0] if permitted else "")

    def model_notice(self, user: User, model: str) -> str:
        """Why `model` cannot answer `user` now, with what to do about it; empty when nothing is known wrong."""
        config = self.models.get(model) if model in self.models_for(user) else None
        if config is None:
            return ("No language model is configured for you. Add one to config/llms.yml or set LLM_BASE_URL "
                    "(see “Models” in the README). The commands below work without a model.")
        if not config.available:
            return (f"The model {config.name} is unavailable: {config.unavailable_reason}. See “Models” in the "
                    "README. The commands below work without a model.")
        status = self.health.status(config).public()
        if status.get("status") == "error":
            return (f"The model {config.name} failed its last check: {status.get('error')} Check its base_url and key "
                    "(see “Models” in the README). The commands below work without a model.")
        return ""

    def tool_binder(self, user: User) -> Callable[[str, list[str]], BoundTools]:
        def bind(session_id: str, selected: list[str]) -> BoundTools:
            context = ToolContext(user=user, session_id=session_id, settings=self.settings, policy=self.policy)
            return self.tools.bind(context, selected)

        return bind

    def rules_for(self, user: User) -> SessionRules:
        def can_use(kind: Kind, name: str) -> bool:
            known = {"tool": self.tools.names(), "model": self.models.names, "data_source": self.data.ids()}
            return name in known[kind] and self.policy.can_use(user, kind, name)

        async def retrieve(question: str, sources: list[str]) -> tuple[list[dict[str, Any]], str]:
            passages = await self.retriever.retrieve(question, sources, user)
            return [passage.model_dump() for passage in passages], context_block(passages)

        return SessionRules(can_use, self.limiter, self.settings.max_message_chars, retrieve)

    def new_session(self, user: User) -> ChatSession:
        # New models discovered later (Ollama) may carry keys too: keep the redaction list complete.
        self.logs.add_secrets(*secrets_of(self.settings, self.models.models))
        return ChatSession(self.engine, user, self.default_model_for(user), self.tool_binder(user),
                           self.rules_for(user), tool_names=self.tools_for(user))

    async def aclose(self) -> None:
        await self.sessions.stop()
        await self.health.stop()
        await self.models.aclose()
        self.logs.close()
