"""Metrics of one model reply, recorded from its events: started, the end with its outcome, first token,
duration, tokens and errors. Text deltas pass untouched: nothing is recorded per token."""

from __future__ import annotations

from galaxy_chat.observability import metrics
from galaxy_chat.vocabulary.events import Done, Error, Event


class ReplyWatch:
    """Created when a reply starts; `see` each non-text event; the Done event closes the books."""

    def __init__(self, model: str) -> None:
        self.model = metrics.bounded("model", model)
        self.failed = False
        self.ended = False
        metrics.REPLIES_STARTED.labels(self.model).inc()

    def see(self, event: Event) -> None:
        if type(event) is Error:
            self.failed = True
            metrics.LLM_ERRORS.labels(self.model, metrics.bounded("kind", event.kind)).inc()
        elif type(event) is Done:
            self._done(event)

    def _done(self, done: Done) -> None:
        self.ended = True
        outcome = "failed" if self.failed else "stopped" if done.stopped else "finished"
        metrics.REPLIES_ENDED.labels(self.model, outcome).inc()
        metrics.REPLY_DURATION.labels(self.model).observe(done.duration_s)
        if done.first_token_s is not None:
            metrics.FIRST_TOKEN.labels(self.model).observe(done.first_token_s)
        metrics.TOKENS.labels(self.model, "in").inc(done.usage.input_tokens)
        metrics.TOKENS.labels(self.model, "out").inc(done.usage.output_tokens)

    def close(self) -> None:
        """The reply's generator closed before its Done (the consumer went away): count it as stopped."""
        if not self.ended:
            self.ended = True
            metrics.REPLIES_ENDED.labels(self.model, "stopped").inc()
