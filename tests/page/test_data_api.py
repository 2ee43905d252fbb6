"""`GET /data` and `GET /data/{id}` in the real app (NiceGUI simulation), under a permissions file in tmp."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from galaxy_chat.testing.app_process import ROOT

PERMISSIONS = """
groups:
  default:
    data_sources: [handbook]
  analysts:
    members: ["*@example.com"]
    tools: ["*"]
    data_sources: ["*"]
  contractors:
    members: [bob@example.com]
    deny:
      data_sources: [hr_*]
"""
ANALYST = {"X-EMAIL-USER": "alice@example.com"}
CONTRACTOR = {"X-EMAIL-USER": "bob@example.com"}  # an analyst too, but denied hr_*
STRANGER = {"X-EMAIL-USER": "someone@else.org"}


@pytest.fixture
def env(clean_env: Path) -> dict[str, str]:
    """Settings for the app: the shipped sources copied into this test's DATA_DIR, permissions in tmp."""
    shutil.copytree(ROOT / "data" / "sources", clean_env / "data" / "sources")
    permissions = clean_env / "permissions.yml"
    permissions.write_text(PERMISSIONS)
    return {"PERMISSIONS_FILE": str(permissions), "DATA_SOURCES_FILE": str(ROOT / "config" / "data_sources.yml"),
            "DISABLE_WEBSOCKET": "true"}


async def test_list_shows_only_permitted_sources(simulated_app, env: dict[str, str]) -> None:
    async with simulated_app(**env) as user:
        analyst = await user.http_client.get("/data", headers=ANALYST)
        contractor = await user.http_client.get("/data", headers=CONTRACTOR)
        stranger = await user.http_client.get("/data", headers=STRANGER)
    assert analyst.status_code == 200
    sources = analyst.json()["sources"]
    assert [source["id"] for source in sources] == ["handbook", "hr_policies", "sales"]
    assert sources[0] == {
        "id": "handbook", "name": "Product handbook", "kind": "documents", "available": True,
        "description": "Specifications, pricing, warranty and support for every product we sell.",
    }
    assert sources[2]["kind"] == "table"
    assert [source["id"] for source in contractor.json()["sources"]] == ["handbook", "sales"]
    assert [source["id"] for source in stranger.json()["sources"]] == ["handbook"]


async def test_document_source_shows_files_and_first_chunk(simulated_app, env: dict[str, str]) -> None:
    async with simulated_app(**env) as user:
        response = await user.http_client.get("/data/handbook", headers=ANALYST)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "handbook" and body["kind"] == "documents"
    files = {item["path"]: item for item in body["files"]}
    laptops = ROOT / "data" / "sources" / "handbook" / "laptops.md"
    assert files["laptops.md"]["size"] == laptops.stat().st_size and files["laptops.md"]["chunks"] >= 2
    assert body["chunks"] == sum(item["chunks"] for item in body["files"])
    first = body["first_chunk"]
    assert first["location"] == "accessories.md" and first["text"].startswith("# Accessories")
    assert str(ROOT) not in response.text  # no server paths


async def test_table_source_shows_columns_and_five_rows(simulated_app, env: dict[str, str]) -> None:
    async with simulated_app(**env) as user:
        response = await user.http_client.get("/data/sales", headers=ANALYST)
    assert response.status_code == 200
    body = response.json()
    assert body["table"] == "monthly_sales" and body["row_count"] == 360
    assert [column["name"] for column in body["columns"]] == ["month", "region", "category", "revenue", "units"]
    assert len(body["rows"]) == 5 and body["rows"][0][:3] == ["2023-01", "APAC", "Laptops"]


async def test_forbidden_is_403_with_a_log_and_unknown_is_404(simulated_app, env: dict[str, str],
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        async with simulated_app(**env) as user:
            denied = await user.http_client.get("/data/hr_policies", headers=CONTRACTOR)
            stranger = await user.http_client.get("/data/sales", headers=STRANGER)
            unknown = await user.http_client.get("/data/nope", headers=ANALYST)
            anonymous = await user.http_client.get("/data")
    assert (denied.status_code, stranger.status_code, unknown.status_code) == (403, 403, 404)
    assert denied.json() == {"detail": "You may not use the data source 'hr_policies'."}
    assert unknown.json() == {"detail": "There is no data source 'nope'."}
    assert anonymous.status_code == 401
    assert "refused data source 'hr_policies' for bob@example.com" in caplog.text


async def test_without_permissions_file_everyone_sees_everything(simulated_app, env: dict[str, str],
                                                                 clean_env: Path) -> None:
    env["PERMISSIONS_FILE"] = str(clean_env / "absent.yml")
    async with simulated_app(**env) as user:
        response = await user.http_client.get("/data", headers=STRANGER)
    assert [source["id"] for source in response.json()["sources"]] == ["handbook", "hr_policies", "sales"]


async def test_a_missing_folder_is_listed_as_unavailable(simulated_app, env: dict[str, str], clean_env: Path) -> None:
    shutil.rmtree(clean_env / "data" / "sources" / "hr_policies")
    async with simulated_app(**env) as user:
        listing = await user.http_client.get("/data", headers=ANALYST)
        detail = await user.http_client.get("/data/hr_policies", headers=ANALYST)
    hr = next(source for source in listing.json()["sources"] if source["id"] == "hr_policies")
    assert hr["available"] is False and hr["problem"] == "its folder does not exist"
    assert detail.status_code == 503 and "does not exist" in detail.json()["detail"]
