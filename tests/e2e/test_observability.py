"""Monitoring of the app as a real process: who may read /metrics and /admin, JSON log lines, and a trace
exported to a real OTLP/HTTP receiver. One app serves the whole module (start-up costs ~4 s)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from galaxy_chat.testing.app_process import AppProcess
from galaxy_chat.testing.otlp_receiver import OtlpReceiver

TOKEN = "metrics-token-for-tests"
ADMIN = {"X-EMAIL-USER": "admin@example.com"}
PERSON = {"X-EMAIL-USER": "person@example.com"}
PERMISSIONS = """groups:
  admins:
    members: [admin@example.com]
    tools: ["*"]
  default:
    tools: [calculator]
    models: ["*"]
"""


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[AppProcess]:
    folder = tmp_path_factory.mktemp("observed")
    (folder / "permissions.yml").write_text(PERMISSIONS)
    process = AppProcess(folder, args=[], env={
        "PERMISSIONS_FILE": str(folder / "permissions.yml"), "LLM_CONFIG_FILE": str(folder / "none.yml"),
        "DATA_SOURCES_FILE": str(folder / "none.yml"), "MCP_SERVERS_FILE": str(folder / "none.yml"),
        "OLLAMA_BASE_URL": "http://127.0.0.1:9", "METRICS_TOKEN": TOKEN, "LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "galaxy-chat-test"})
    process.start()
    yield process
    process.stop()


def get(app: AppProcess, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(app.url + path, headers=headers, timeout=10)


def test_metrics_need_the_token_or_an_admin(app: AppProcess) -> None:
    assert get(app, "/metrics").status_code == 401
    assert get(app, "/metrics", {"Authorization": "Bearer wrong"}).status_code == 401
    assert get(app, "/metrics", {"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert get(app, "/metrics", PERSON).status_code == 403
    scraped = get(app, "/metrics", ADMIN)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(scraped.text)}
    assert {"galaxy_chat_http_requests", "galaxy_chat_event_loop_lag_seconds"} <= names
    assert TOKEN not in scraped.text


def test_http_requests_are_counted_by_route_template(app: AppProcess) -> None:
    get(app, "/c/some-chat-id-that-is-not-there", PERSON)
    get(app, "/c/another-id", PERSON)
    get(app, "/health")
    text = get(app, "/metrics", {"Authorization": f"Bearer {TOKEN}"}).text
    samples = [s for f in text_string_to_metric_families(text) if f.name == "galaxy_chat_http_requests"
               for s in f.samples]
    routes = {s.labels["route"] for s in samples}
    assert "/c/{conversation_id}" in routes and "/health" in routes
    assert not any("another-id" in route for route in routes)  # templates, never raw paths
    refused = [s for s in samples if s.labels["route"] == "/metrics" and s.labels["status"] == "401"]
    assert refused and refused[0].value >= 1


def test_the_admin_page_is_for_admins_only(app: AppProcess) -> None:
    assert get(app, "/admin").status_code == 401
    assert get(app, "/admin", PERSON).status_code == 403
    page = get(app, "/admin", ADMIN)
    assert page.status_code == 200 and "admin" in page.text
    assert get(app, "/admin/usage.csv?table=user", PERSON).status_code == 403
    csv = get(app, "/admin/usage.csv?table=user&days=30", ADMIN)
    assert csv.status_code == 200 and csv.text.splitlines()[0] == "user,replies,input tokens,output tokens"


def test_a_command_is_traced_and_logged_as_json(app: AppProcess, receiver: OtlpReceiver) -> None:
    get(app, "/admin", ADMIN)
    answer = httpx.post(app.url + "/api/commands", json={"text": "/calc 6*7"}, headers=PERSON, timeout=10).json()
    assert answer["ok"] and "42" in answer["text"]
    spans = receiver.wait_for("tool.call")
    session = answer["session_id"]
    turn = next(s for s in spans if s.name == "reply" and s.attributes["galaxy_chat.session_id"] == session)
    tool = next(s for s in spans if s.name == "tool.call" and s.trace_id == turn.trace_id)
    assert tool.parent_span_id == turn.span_id and tool.attributes["galaxy_chat.tool"] == "calculator"
    assert turn.service == "galaxy-chat-test"
    assert not any("6*7" in str(value) for span in spans for value in span.attributes.values())  # no text

    lines = [line for line in app.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    turn_lines = [r for r in records if r.get("session") == answer["session_id"]]
    assert turn_lines and turn_lines[0]["logger"] == "galaxy_chat.core.chat_session"
    assert any(r["logger"] == "galaxy_chat.ui.admin_page" and "admin@example.com" in r["message"] for r in records)
    assert any(r["logger"] == "uvicorn.access" for r in records)  # uvicorn's own lines are JSON too
    assert TOKEN not in app.output()
