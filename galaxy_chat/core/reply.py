"""One reply in progress: its queue, its tasks (the model's stream, each running tool, the status ticker),
and what to keep in the conversation when it is cut short. The engine (engine.py) starts one per message.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing
from typing import Any

from galaxy_chat.core.context import fit_context, input_budget
from galaxy_chat.core.conversation import Conversation, Interruption
from galaxy_chat.core.read_batching import pump
from galaxy_chat.core.session_log import SessionLog
from galaxy_chat.core.ticker import StatusTicker
from galaxy_chat.core.tool_io import EventCallIO, Questions
from galaxy_chat.core.tool_runner import FinishedCall, ToolRunner, run_timed
from galaxy_chat.llm.errors import FaultKind, LLMError
from galaxy_chat.llm.messages import ChatRequest, ImagePart, Message, StreamDone, TextPiece
from galaxy_chat.llm.provider import Provider
from galaxy_chat.observability import tracing
from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.events import (
    Done,
    Error,
    Event,
    Status,
    TextDelta,
    ToolCallAnswer,
    ToolCallLog,
    ToolCallProgress,
    ToolCallQuestion,
    ToolCallStarted,
    Usage,
)
from galaxy_chat.vocabulary.tool_calls import ToolCall, ToolSpec
from tools.base import ToolResult

ProviderLookup = Callable[[str], Provider]  # raises LLMError(UNAVAILABLE) for an unknown or unusable model

GENERIC_ERROR = "Something went wrong on the server while answering. The details are in the session log."
TOO_MANY_ROUNDS = "Stopped after {n} tool rounds without a final answer."
CANCELLED_TOOL = "Cancelled: the person stopped the reply before this tool finished."
TOOL_REPORTS = (ToolCallProgress, ToolCallLog, ToolCallQuestion, ToolCallAnswer)
STOP_GRACE_S = 0.9  # time cancelled tools and the HTTP stream get to wind down (the promise is 1 s)


class StopRequested(Exception):
    """The person pressed Stop: wind down, keep the partial reply, and still end with Done(stopped=True)."""


class Reply:
    """One reply in progress: its queue, its tasks, and what to keep in the conversation if it is cut short."""

    def __init__(self, settings: Settings, conversation: Conversation, log: SessionLog, runner: ToolRunner,
                 replies: Callable[[], int], questions: Questions) -> None:
        self.settings, self.conversation, self.log, self.runner = settings, conversation, log, runner
        self.questions = questions
        self.replies = replies  # how many replies the engine is writing now (read_batching.py)
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.ticker = StatusTicker(self.queue.put_nowait, settings.status_interval_s, self.queue.empty)
        self.tasks: set[asyncio.Task[None]] = set()
        self.pump: asyncio.Task[None] | None = None
        self.started = time.monotonic()
        self.first_token_s: float | None = None
        self.usage = Usage()
        self.rounds = 0
        self.partial: list[str] = []  # text of the model call in progress
        self.calls: list[ToolCall] | None = None  # tool calls in progress
        self.results: dict[int, ToolResult] = {}

    def request_stop(self) -> None:
        if self.pump is not None:
            self.pump.cancel()  # close the HTTP stream at once, even if text is still queued
        self.queue.put_nowait(StopRequested())

    async def run(self, user_text: str, model_name: str, provider_for: ProviderLookup,
                  images: list[ImagePart] | None = None) -> AsyncIterator[Event]:
        self.conversation.add(Message("user", user_text, images=list(images or [])))
        self.log.write("user", text=user_text, model=model_name)
        self._spawn(self.ticker.run())
        stopped = False
        try:
            if self.settings.disable_llm_calls:
                raise LLMError(FaultKind.DISABLED, "DISABLE_LLM_CALLS is set")
            provider = provider_for(model_name)
            specs = self.runner.specs()
            last = self.settings.max_tool_rounds
            for self.rounds in range(1, last + 1):
                self._start_model_call(provider, specs)
                done: StreamDone | None = None
                while done is None:
                    item = await self.queue.get()
                    if type(item) is TextPiece:  # the hot path: one per token
                        if self.first_token_s is None:
                            self.first_token_s = time.monotonic() - self.started
                        self.partial.append(item.text)
                        self.log.text(item.text)
                        self.ticker.reset()
                        yield TextDelta(item.text)
                    elif type(item) is StreamDone:
                        done = item
                    else:
                        yield self._control(item)
                if not self._finish_model_call(done, self.rounds == last):
                    if done.tool_calls:
                        yield self._emit(Error(TOO_MANY_ROUNDS.format(n=last), kind="max_tool_rounds"))
                    break
                async with aclosing(self._run_tools()) as events:
                    async for event in events:
                        yield event
        except StopRequested:
            stopped = True
            self._keep_partial(Interruption.STOPPED, "stop button")
        except LLMError as err:
            self._keep_partial(Interruption.FAULT, err.kind.value)
            yield self._emit(Error(str(err), err.detail, err.kind.value), traceback=_trace(err))
        except Exception as exc:
            self._keep_partial(Interruption.FAULT, "internal error")
            yield self._emit(Error(GENERIC_ERROR, f"{type(exc).__name__}: {exc}", "internal"), traceback=_trace(exc))
        except BaseException as exc:  # closed (aclose) or cancelled by the consumer
            self._keep_partial(Interruption.STOPPED, type(exc).__name__)
            raise
        finally:
            await self._cancel_tasks()
        yield self._emit(Done(self.usage, time.monotonic() - self.started, self.first_token_s, self.rounds, stopped))

    async def _run_tools(self) -> AsyncIterator[Event]:
        calls = self.calls or []
        for index, call in enumerate(calls):  # started before they are announced: Started means running
            self._spawn(self._tool(index, call))
        for call in calls:
            yield self._emit(ToolCallStarted(call.id, call.name, call.arguments))
        while len(self.results) < len(calls):
            item = await self.queue.get()
            if type(item) is FinishedCall:
                self.results[item.index] = item.outcome
                yield self._emit(item.event(), traceback=item.traceback)
            else:
                yield self._control(item)
        self._add_tool_results()

    def _control(self, item: Any) -> Event:
        """Anything but text and results: a Status to pass on, or a stop or fault to raise here."""
        if type(item) is Status:
            self.log.event(item)
            return item
        if type(item) in TOOL_REPORTS:  # shown to the person: the wait is not silent any more
            return self._emit(item)
        if isinstance(item, Exception):  # the model's fault, or a stop request
            raise item
        raise RuntimeError(f"unexpected item in the reply queue: {item!r}")

    def _emit(self, event: Event, **extra: Any) -> Event:
        self.log.event(event, **extra)
        self.ticker.reset()
        return event

    def _start_model_call(self, provider: Provider, specs: list[ToolSpec]) -> None:
        config = provider.config
        fitted = fit_context(self.conversation.system_message, self.conversation.messages,
                             input_budget(config, specs))
        self.log.write("model_call", round=self.rounds, model=config.name, provider=config.provider,
                       model_name=config.model_name, messages=len(fitted.messages), dropped=fitted.dropped,
                       estimated_tokens=fitted.tokens, tools=[spec.name for spec in specs])
        self.pump = self._spawn(self._pump(provider, ChatRequest(fitted.messages, specs)))

    def _finish_model_call(self, done: StreamDone, last_round: bool) -> bool:
        """Store the model's message; True when it asked for tools that should now run."""
        text = "".join(self.partial)
        self.partial = []
        self.usage += done.usage or Usage()
        self.log.write("model_reply", round=self.rounds, finish_reason=done.finish_reason, text=text,
                       tool_calls=[{"id": c.id, "name": c.name} for c in done.tool_calls],
                       usage=done.usage and {"input_tokens": done.usage.input_tokens,
                                             "output_tokens": done.usage.output_tokens})
        if done.tool_calls and not last_round:
            self.conversation.add(Message("assistant", text, tool_calls=list(done.tool_calls)))
            self.calls, self.results = list(done.tool_calls), {}
            return True
        if text:
            self.conversation.add(Message("assistant", text))
        return False

    def _add_tool_results(self, interruption: Interruption | None = None) -> None:
        """One result per call, in the model's order, so the tool exchange is always complete."""
        for index, call in enumerate(self.calls or []):
            outcome = self.results.get(index)
            message = Message("tool", CANCELLED_TOOL if outcome is None else outcome.text, tool_call_id=call.id,
                              name=call.name, is_error=outcome is None or outcome.is_error)
            self.conversation.add(message, interruption if outcome is None else None)
        self.calls, self.results = None, {}

    def _keep_partial(self, interruption: Interruption, reason: str) -> None:
        """Keep what the person already saw, and close any open tool exchange with 'cancelled' results."""
        if self.calls is not None:
            while not self.queue.empty():  # results that arrived but were not read yet still count
                item = self.queue.get_nowait()
                if type(item) is FinishedCall:
                    self.results[item.index] = item.outcome
            cancelled = [c.id for i, c in enumerate(self.calls) if i not in self.results]
            self._add_tool_results(interruption)
            self.log.write("interrupted", how=interruption.value, reason=reason, cancelled_tools=cancelled)
            return
        text = "".join(self.partial)
        self.partial = []
        if text:
            self.conversation.add(Message("assistant", text), interruption)
        self.log.write("interrupted", how=interruption.value, reason=reason, kept_text=text)

    async def _pump(self, provider: Provider, request: ChatRequest) -> None:
        stream = provider.stream(request)
        try:
            with tracing.span("llm.call", **{"galaxy_chat.model": provider.config.name,
                                             "galaxy_chat.round": self.rounds}):
                await pump(stream, self.queue.put_nowait, self.replies)
        except Exception as exc:
            self.queue.put_nowait(exc)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()  # closes the HTTP response if it is still open

    async def _tool(self, index: int, call: ToolCall) -> None:
        io = EventCallIO(call.id, self.queue.put_nowait, self.questions)
        self.queue.put_nowait(await run_timed(self.runner, index, call, io))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _cancel_tasks(self) -> None:
        tasks = [task for task in self.tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_S)


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))
