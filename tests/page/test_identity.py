"""Identity from the proxy header, checked by the real app in NiceGUI's simulation (HTTP side)."""

from __future__ import annotations

import logging

import pytest

SOCKET_POLL = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
ALICE = {"X-EMAIL-USER": "alice@example.com"}


async def test_health_needs_no_identity_and_says_little(simulated_app) -> None:
    async with simulated_app() as user:
        response = await user.http_client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/ready", SOCKET_POLL])
async def test_no_header_is_401_everywhere(simulated_app, path: str) -> None:
    async with simulated_app() as user:
        response = await user.http_client.get(path)
        assert response.status_code == 401
        assert "Galaxy Chat" not in response.text  # never the app


async def test_401_page_is_readable_html_for_browsers_and_json_for_apis(simulated_app) -> None:
    async with simulated_app() as user:
        page = await user.http_client.get("/", headers={"Accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")
        assert "Sign in through your organisation" in page.text
        api = await user.http_client.get("/ready", headers={"Accept": "application/json"})
        assert api.json() == {"detail": "Sign in through your organisation's proxy to use this app."}


async def test_header_is_accepted_and_normalised(simulated_app) -> None:
    async with simulated_app() as user:
        response = await user.http_client.get("/", headers={"X-EMAIL-USER": "  Alice@Example.COM "})
        assert response.status_code == 200
        assert "alice@example.com" in response.text
        ready = await user.http_client.get("/ready", headers=ALICE)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "alice@example.com<script>", "x" * 300 + "@example.com"])
async def test_malformed_email_is_400(simulated_app, email: str) -> None:
    async with simulated_app() as user:
        response = await user.http_client.get("/ready", headers={"X-EMAIL-USER": email})
        assert response.status_code == 400


async def test_proxy_secret_required_when_configured(simulated_app, caplog) -> None:
    async with simulated_app(TRUSTED_PROXY_SECRET="s3cret-value") as user:
        missing = await user.http_client.get("/ready", headers=ALICE)
        wrong = await user.http_client.get("/ready", headers={**ALICE, "X-Proxy-Secret": "guess"})
        right = await user.http_client.get("/ready", headers={**ALICE, "X-Proxy-Secret": "s3cret-value"})
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    refusals = [r for r in caplog.records if "proxy secret" in r.getMessage()]
    assert len(refusals) == 2 and all(r.levelno == logging.WARNING for r in refusals)
    assert "s3cret-value" not in caplog.text and "guess" not in caplog.text


async def test_peer_must_be_a_trusted_proxy_ip(simulated_app, caplog) -> None:
    async with simulated_app(TRUSTED_PROXY_IPS="10.0.0.0/8, 192.168.1.5") as user:
        response = await user.http_client.get("/ready", headers=ALICE)  # the simulated peer is 127.0.0.1
        assert response.status_code == 401
    assert any("is not a trusted proxy" in r.getMessage() for r in caplog.records)


async def test_peer_in_trusted_range_is_accepted(simulated_app) -> None:
    async with simulated_app(TRUSTED_PROXY_IPS="127.0.0.0/8") as user:
        assert (await user.http_client.get("/ready", headers=ALICE)).status_code == 200


async def test_socket_from_a_foreign_origin_is_refused(simulated_app) -> None:
    async with simulated_app() as user:
        foreign = await user.http_client.get(SOCKET_POLL, headers={**ALICE, "Origin": "https://evil.example"})
        assert foreign.status_code == 403
        own = await user.http_client.get(SOCKET_POLL, headers={**ALICE, "Origin": "http://test"})
        assert own.status_code == 200


async def test_allowed_origins_extend_the_page_host(simulated_app) -> None:
    async with simulated_app(ALLOWED_ORIGINS="https://chat.example.com") as user:
        response = await user.http_client.get(
            SOCKET_POLL, headers={**ALICE, "Origin": "https://chat.example.com"}
        )
        assert response.status_code == 200


async def test_test_mode_uses_test_email_without_header(simulated_app) -> None:
    async with simulated_app(TEST_MODE="true", TEST_EMAIL="Tester@Example.org") as user:
        response = await user.http_client.get("/")
        assert response.status_code == 200
        assert "tester@example.org" in response.text


async def test_disable_websocket_serves_only_the_api(simulated_app) -> None:
    async with simulated_app(DISABLE_WEBSOCKET="true") as user:
        assert (await user.http_client.get("/ready", headers=ALICE)).status_code == 200
        assert (await user.http_client.get("/", headers=ALICE)).status_code == 404
