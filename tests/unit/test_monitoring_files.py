"""The monitoring files against what the app exports: every metric the dashboard, the alert rules and their
tests name exists in the app's registry (a renamed metric would leave a panel empty and an alert silent), every
exported metric is documented, and the scrape set-ups point at the port and path the app serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from galaxy_chat.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "observability"
METRIC = re.compile(r"\bgalaxy_chat_[a-z0-9_]+")


def exprs_of_dashboard() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def exprs_of_rules() -> list[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_every_metric_the_dashboard_and_the_alerts_use_is_exported() -> None:
    exported = metrics.metric_names()
    tests = (MONITORING / "alerts_test.yml").read_text()
    used = {name for text in [*exprs_of_dashboard(), *exprs_of_rules(), tests] for name in METRIC.findall(text)}
    assert used, "no metric names found: the pattern or the files changed"
    assert sorted(used - exported) == []


def test_the_dashboard_covers_every_metric_family_and_every_panel_queries() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and all(panel["targets"] for panel in dashboard["panels"])
    used = " ".join(exprs_of_dashboard())
    families = {family.name for family in metrics.registry.collect()}
    assert sorted(f for f in families if f not in used) == []


def test_every_exported_metric_is_documented() -> None:
    doc = (ROOT / "docs" / "observability.md").read_text()
    families = {family.name + ("_total" if family.type == "counter" else "") for family in metrics.registry.collect()}
    assert sorted(name for name in families if f"`{name}`" not in doc) == []


def test_the_scrape_set_ups_use_the_apps_port_path_and_token() -> None:
    prometheus = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    job = prometheus["scrape_configs"][0]
    assert job["job_name"] == "galaxy-chat" and job["metrics_path"] == "/metrics"
    assert job["dns_sd_configs"][0]["port"] == 8080 and job["authorization"]["type"] == "Bearer"
    monitor = yaml.safe_load((ROOT / "deploy/k8s/monitoring/servicemonitor.yaml").read_text())
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics" and endpoint["authorization"]["credentials"]["key"] == "METRICS_TOKEN"
    deployment = yaml.safe_load((ROOT / "deploy/k8s/base/workload/deployment.yaml").read_text())
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["services"]["prometheus"]["profiles"] == ["scale"]
    assert compose["services"]["grafana"]["profiles"] == ["scale"]
