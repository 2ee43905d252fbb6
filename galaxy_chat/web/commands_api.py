"""`POST /api/commands`: run one direct command (`/calc 2*(3+4)`) over HTTP, without a page or a model.

The request body is `{"text": "/calc 2*(3+4)"}`; the answer is JSON with the command's events and a summary:

    {"ok": true, "session_id": "…", "tool": "calculator", "text": "2*(3+4) = 14", "is_error": false,
     "reduced_isolation": false, "widgets": [{"kind": "markdown", "text": "…"}], "events": [...]}

Identity comes from the proxy like every route (the identity middleware); the tools are bound for that person
exactly as a chat session binds them, so the policy's permissions, the argument checks and the tool timeouts
are the same. Each call gets its own short-lived session id and session log (LOG_DIR/<id>.jsonl); nothing is
kept in memory after the answer. Bad input gets 400 with a `detail` sentence.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from galaxy_chat.core.commands import is_command, run_command, split_command
from galaxy_chat.core.events import Done, Error, Event, TextDelta, ToolCallFinished
from galaxy_chat.core.session_log import event_record, secrets_of
from galaxy_chat.services import Services
from galaxy_chat.web.identity import client_of, current_user
from tools.base import ToolContext

log = logging.getLogger(__name__)

PATH = "/api/commands"
MAX_TEXT = 20_000  # characters; a command, not a document (the python tool's own limit is higher)
EXAMPLE = '{"text": "/calc 2*(3+4)"}'


def bad_request(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=400)


def command_text(body: Any) -> str | JSONResponse:
    """The command in a parsed body, or the 400 answer saying what is wrong with it."""
    if not isinstance(body, dict) or "text" not in body:
        return bad_request(f"The body must be a JSON object with a 'text' field, e.g. {EXAMPLE}.")
    text = body["text"]
    if not isinstance(text, str):
        return bad_request(f"'text' must be a string, not {type(text).__name__}.")
    if len(text) > MAX_TEXT:
        return bad_request(f"'text' is too long ({len(text):,} characters; at most {MAX_TEXT:,}).")
    text = text.strip()
    if not is_command(text):
        return bad_request("'text' must be a command starting with '/', e.g. /calc 2*(3+4); /help lists yours.")
    return text


def public_record(event: Event) -> dict[str, Any]:
    """An event as JSON for the caller: like the session log's record, without internal detail."""
    record = event_record(event)
    record.pop("detail", None)
    return record


def summary(events: list[Event]) -> dict[str, Any]:
    """The outcome in a few fields: the tool's result, else the help text, else the error."""
    finished = next((e for e in events if isinstance(e, ToolCallFinished)), None)
    errors = [e for e in events if isinstance(e, Error)]
    if finished is not None:
        return {"ok": not finished.is_error, "tool": finished.name, "text": finished.text,
                "is_error": finished.is_error, "reduced_isolation": finished.reduced_isolation,
                "widgets": public_record(finished)["widgets"]}
    if errors:
        return {"ok": False, "tool": None, "text": errors[0].message, "is_error": True, "kind": errors[0].kind,
                "reduced_isolation": False, "widgets": []}
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return {"ok": True, "tool": None, "text": text, "is_error": False, "reduced_isolation": False, "widgets": []}


def commands_router(services: Services) -> APIRouter:
    router = APIRouter()

    @router.post(PATH)
    async def run(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return bad_request(f"The body is not valid JSON; send e.g. {EXAMPLE}.")
        text = command_text(body)
        if isinstance(text, JSONResponse):
            return text
        user = current_user(request)
        session_id = secrets.token_urlsafe(16)
        context = ToolContext(user=user, session_id=session_id, settings=services.settings, policy=services.policy)
        bound = services.tools.bind(context, selected=services.tools_for(user))
        services.logs.add_secrets(*secrets_of(services.settings, services.models.models))
        session_log = services.logs.open(session_id)
        session_log.write("session_start", user=user.email, source="api", tools=bound.allowed)
        session_log.write("command", text=text)
        events: list[Event] = []
        try:
            async for event in run_command(text, bound):
                session_log.event(event)
                events.append(event)
        finally:  # also when the caller goes away mid-command (the task is cancelled)
            session_log.write("session_end", user=user.email, completed=bool(events) and isinstance(events[-1], Done))
        outcome = summary(events)
        log.info("api command /%s by %s from %s: %s", split_command(text)[0][:40], user.email, client_of(request),
                 "ok" if outcome["ok"] else "error")
        body = {**outcome, "session_id": session_id, "events": [public_record(e) for e in events]}
        # default=repr: a widget holding something JSON cannot express still gives an answer, never a 500
        return Response(json.dumps(body, default=repr), media_type="application/json")

    return router
