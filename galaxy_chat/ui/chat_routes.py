"""The chat page's addresses: `/` (the person's live chat) and `/c/<id>` (a chat of theirs, opened again)."""

from __future__ import annotations

import logging

from nicegui import Client, ui
from starlette.requests import Request
from starlette.responses import HTMLResponse

from galaxy_chat.services import Services
from galaxy_chat.ui.chat_page import ChatPage
from galaxy_chat.ui.nicegui_internals import cache_handler_signatures, page_prefix
from galaxy_chat.ui.page_assets import add_page_assets
from galaxy_chat.ui.streaming_markdown import preload_html
from galaxy_chat.web.identity import client_of, current_user

log = logging.getLogger(__name__)

MAX_ID = 64

NOT_FOUND_PAGE = ("<!doctype html><html><head><meta charset='utf-8'><title>Chat not found</title></head>"
                  "<body style='font-family:sans-serif;background:#121212;color:#eee;padding:2em'>"
                  "<h1>Chat not found</h1><p>There is no such chat of yours. <a href='../' style='color:#90caf9'>"
                  "Start a new chat</a></p></body></html>")


def register_chat_page(services: Services) -> None:
    add_page_assets()
    cache_handler_signatures()  # building a page's elements: a third faster

    @ui.page("/", title=services.settings.app_name)
    async def chat_page(request: Request, client: Client) -> None:
        user = current_user(request)
        log.info("page opened by %s from %s", user.email, client_of(request))
        await services.opened_history()
        ui.add_head_html(preload_html(page_prefix(request)))
        page = ChatPage(services, user, client, await services.sessions.current_for(user))
        await page.history_panel.load()

    @ui.page("/c/{conversation_id}", title=services.settings.app_name)
    async def stored_chat(request: Request, client: Client, conversation_id: str) -> HTMLResponse | None:
        """A chat's own address: a reload or a shared link opens it (another person's id is not found)."""
        user = current_user(request)
        await services.opened_history()
        session = await services.sessions.open(user, conversation_id) if len(conversation_id) <= MAX_ID else None
        if session is None:
            log.info("chat %s not found for %s", conversation_id[:MAX_ID], user.email)
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        ui.add_head_html(preload_html(page_prefix(request)))
        page = ChatPage(services, user, client, session)
        await page.history_panel.load()
        return None
