"""`POST /api/commands`: run one direct command (`/calc 2*(3+4)`) over HTTP, without a page or a model.

The request body is `{"text": "/calc 2*(3+4)"}`; the answer is JSON with the command's events and a summary:

    {"ok": true, "session_id": "…", "tool": "calculator", "text": "2*(3+4) = 14", "is_error": false,
     "reduced_isolation": false, "widgets": [{"kind": "markdown", "text": "…"}], "events": [...]}

The command runs through the same front door as a message typed in the page (Services.run_command, a
ChatSession of its own): the same permissions, MAX_MESSAGE_CHARS, MESSAGES_PER_MINUTE and one run at a time
per person, the same tool checks and timeouts, and a session log of its own (LOG_DIR/<id>.jsonl). Refusals
answer with a `detail` sentence: 400 (bad input), 429 (rate limit), 409 (another run of the person's is
still going), 503 (the server is draining before a restart: send it again, another replica answers).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from galaxy_chat.core.commands import is_command, split_command
from galaxy_chat.core.limits import SendRefused
from galaxy_chat.services import Services
from galaxy_chat.vocabulary.event_json import encode
from galaxy_chat.vocabulary.events import Error, Event, TextDelta, ToolCallFinished
from galaxy_chat.web.identity import client_of, current_user

log = logging.getLogger(__name__)

PATH = "/api/commands"
EXAMPLE = '{"text": "/calc 2*(3+4)"}'
REFUSAL_STATUS = {"rate_limited": 429, "busy": 409, "empty": 400, "too_long": 400, "not_permitted": 403,
                  "locked": 409, "draining": 503}
ACROSS_REPLICAS = ("rate_limited", "busy")  # refusals that can come only once the run started (REDIS_URL)


def bad_request(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=400)


def command_text(body: Any) -> str | JSONResponse:
    """The command in a parsed body, or the 400 answer saying what is wrong with it. Its length is checked by
    the session's rules, like a message's."""
    if not isinstance(body, dict) or "text" not in body:
        return bad_request(f"The body must be a JSON object with a 'text' field, e.g. {EXAMPLE}.")
    text = body["text"]
    if not isinstance(text, str):
        return bad_request(f"'text' must be a string, not {type(text).__name__}.")
    if not is_command(text.strip()):
        return bad_request("'text' must be a command starting with '/', e.g. /calc 2*(3+4); /help lists yours.")
    return text


def public_record(event: Event) -> dict[str, Any]:
    """An event as JSON for the caller: like the session log's record, without internal detail."""
    record = encode(event)
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
        try:
            session_id, turn = await services.run_command(user, text)
        except SendRefused as refusal:
            log.info("api command by %s from %s refused: %s", user.email, client_of(request), refusal.kind)
            return JSONResponse({"detail": str(refusal)}, status_code=REFUSAL_STATUS[refusal.kind])
        events = list(turn.events)
        refused = next((e for e in events if isinstance(e, Error) and e.kind in ACROSS_REPLICAS), None)
        if refused is not None:  # refused across replicas, at the start of the run (REDIS_URL)
            log.info("api command by %s from %s refused: %s", user.email, client_of(request), refused.kind)
            return JSONResponse({"detail": refused.message}, status_code=REFUSAL_STATUS[refused.kind])
        outcome = summary(events)
        log.info("api command /%s by %s from %s: %s", split_command(turn.text)[0][:40], user.email,
                 client_of(request),
                 "ok" if outcome["ok"] else "error")
        body = {**outcome, "session_id": session_id, "events": [public_record(e) for e in events]}
        # default=repr: a widget holding something JSON cannot express still gives an answer, never a 500
        return Response(json.dumps(body, default=repr), media_type="application/json")

    return router
