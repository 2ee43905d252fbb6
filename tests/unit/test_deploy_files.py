"""The deployment files: deploy/bluegreen.sh run for real against a fake kubectl, and the invariants of the
Dockerfile, compose.yaml, the devcontainer and the Kubernetes manifests that the linters cannot see.

(Syntax and schemas are checked by deploy/lint-config.sh; the image itself by deploy/check-image.sh.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BAD = "ghcr.io/acme/galaxy-chat:bad"

# A stand-in for kubectl that keeps a tiny "cluster" in a JSON file: a Service selector, Deployments with an
# image, replicas and a revision history. A Deployment whose image is BAD never gets ready.
FAKE_KUBECTL = r'''
import json, os, re, sys
state_path = os.environ["FAKE_KUBE_STATE"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {"selector": None, "deployments": {}}
args = sys.argv[1:]
if args[:1] == ["--namespace"]:
    args = args[2:]
deps = state["deployments"]
def save(): json.dump(state, open(state_path, "w"))
def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default
verb = args[0]
if verb == "kustomize":
    text = open(os.path.join(args[1], "kustomization.yaml")).read()
    name, tag = re.search(r"newName: (\S+)", text), re.search(r"newTag: (\S+)", text)
    image = f"{name.group(1)}:{tag.group(1)}" if name else "ghcr.io/OWNER/galaxy-chat:latest"
    for colour in ("blue", "green"):
        print(f"colour: {colour}\n        image: {image}")
elif verb == "apply":
    image = re.search(r"image: (\S+)", open(opt("-f")).read()).group(1)
    skip = opt("-l").split("!=")[1]
    state.setdefault("service", True)
    for colour in {"blue", "green"} - {skip}:
        dep = deps.setdefault(colour, {"replicas": 1, "history": []})
        if dep.get("image") != image:
            dep["history"].append(dep.get("image"))
            dep["image"] = image
    save()
elif verb == "get" and args[1] == "service":
    if not state.get("service"):
        sys.exit(1)
    print(state["selector"] or "", end="")
elif verb == "get" and args[1] == "deployment":
    colour = args[2].rsplit("-", 1)[1]
    if colour not in deps:
        sys.exit(1)
    print(deps[colour]["image"], end="")
elif verb == "get" and args[1] == "endpoints":
    dep = deps.get(state["selector"] or "", {})
    if dep.get("replicas") and dep.get("image") != os.environ["FAKE_BAD_IMAGE"]:
        print(f"galaxy-chat-{state['selector']}-5d8f-abcde")
elif verb == "get":
    print("(pods)")
elif verb == "scale":
    deps[args[2].rsplit("-", 1)[1]]["replicas"] = int(opt("--replicas"))
    save()
elif verb == "rollout" and args[1] == "status":
    sys.exit(1 if deps[args[3].rsplit("-", 1)[1]]["image"] == os.environ["FAKE_BAD_IMAGE"] else 0)
elif verb == "rollout" and args[1] == "undo":
    dep = deps[args[3].rsplit("-", 1)[1]]
    if not dep["history"] or dep["history"][-1] is None:
        sys.exit(1)
    dep["image"] = dep["history"].pop()
    save()
elif verb == "patch":
    state["selector"] = json.loads(opt("-p"))["spec"]["selector"]["app.kubernetes.io/color"]
    save()
else:
    sys.exit(f"fake kubectl: unexpected {args}")
'''


@pytest.fixture
def cluster(tmp_path):
    fake = tmp_path / "kubectl"
    fake.write_text(f"#!{sys.executable}\n{FAKE_KUBECTL}")
    fake.chmod(0o755)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources: []\n")
    state = tmp_path / "state.json"
    env = {**os.environ, "KUBECTL": str(fake), "OVERLAY": str(overlay), "FAKE_KUBE_STATE": str(state),
           "FAKE_BAD_IMAGE": BAD, "DRAIN_SECONDS": "0"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(ROOT / "deploy" / "bluegreen.sh"), *args], env=env, capture_output=True,
                              text=True, timeout=60)

    def world() -> dict:
        return json.loads(state.read_text())

    run.world = world  # type: ignore[attr-defined]
    run.overlay = overlay  # type: ignore[attr-defined]
    return run


def summary(world: dict) -> tuple:
    deps = world["deployments"]
    return world["selector"], {colour: (dep["image"], dep["replicas"]) for colour, dep in sorted(deps.items())}


def test_bluegreen_releases_switch_colours_and_scale_the_old_one_down(cluster) -> None:
    first = cluster("deploy", "ghcr.io/acme/galaxy-chat:1.0.0")
    assert first.returncode == 0, first.stderr
    assert summary(cluster.world()) == ("blue", {"blue": ("ghcr.io/acme/galaxy-chat:1.0.0", 2)})
    second = cluster("deploy", "ghcr.io/acme/galaxy-chat:1.1.0")
    assert second.returncode == 0, second.stderr
    assert summary(cluster.world()) == ("green", {"blue": ("ghcr.io/acme/galaxy-chat:1.0.0", 0),
                                                  "green": ("ghcr.io/acme/galaxy-chat:1.1.0", 2)})
    assert not list(cluster.overlay.glob(".bluegreen.*"))  # the throwaway overlay is gone


def test_a_release_that_never_gets_ready_is_rolled_back_automatically(cluster) -> None:
    assert cluster("deploy", "ghcr.io/acme/galaxy-chat:1.0.0").returncode == 0
    assert cluster("deploy", "ghcr.io/acme/galaxy-chat:1.1.0").returncode == 0
    failed = cluster("deploy", BAD)
    assert failed.returncode == 1
    assert "did not get ready: rolling back (traffic stays on green)" in failed.stderr
    # traffic never moved; the failed colour is at 0 and holds the last good release again
    assert summary(cluster.world()) == ("green", {"blue": ("ghcr.io/acme/galaxy-chat:1.0.0", 0),
                                                  "green": ("ghcr.io/acme/galaxy-chat:1.1.0", 2)})
    back = cluster("rollback")
    assert back.returncode == 0, back.stderr
    assert summary(cluster.world()) == ("blue", {"blue": ("ghcr.io/acme/galaxy-chat:1.0.0", 2),
                                                 "green": ("ghcr.io/acme/galaxy-chat:1.1.0", 0)})


def test_bluegreen_refuses_what_it_cannot_do(cluster) -> None:
    assert "IMAGE must name a tag" in cluster("deploy", "registry:5000/galaxy-chat").stderr
    assert "nothing to roll back to" in cluster("rollback").stderr
    assert cluster("frobnicate").returncode == 1


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed")
def test_shell_scripts_parse() -> None:
    for script in sorted((ROOT / "deploy").glob("*.sh")):
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, script


def test_dockerfile_runs_as_non_root_with_init_healthcheck_and_volumes() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for needed in ("ARG BASE=python:3.12-slim", "FROM ${BASE} AS builder", "UV_COMPILE_BYTECODE=1",
                   "--frozen --no-dev --extra datasci", "bubblewrap tini", "USER 10001:10001", "EXPOSE 8080",
                   "HOST=0.0.0.0", "/health", "STOPSIGNAL SIGTERM", 'VOLUME ["/app/logs", "/app/data"]',
                   'ENTRYPOINT ["tini", "--", "galaxy-chat"]', "SHUTDOWN_TIMEOUT_S=5"):
        assert needed in text, needed
    assert "curl" not in text.split("HEALTHCHECK", 1)[1]


def test_dockerignore_keeps_secrets_and_state_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".git", ".venv", ".env", "logs/*", "data/*", ".pytest_cache", "test-artifacts", "bench"):
        assert pattern in lines, pattern


def test_compose_profiles() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    scale = ("migrate", "app-1", "app-2", "app-3", "lb", "postgres", "redis", "prometheus", "grafana")
    assert {name: service["profiles"] for name, service in services.items()} == {
        "app": ["prod"], "dev": ["dev"], "ollama": ["ollama"], **{name: ["scale"] for name in scale}}
    assert services["app"]["env_file"] == [{"path": ".env", "required": False}]
    assert {"/app/logs", "/app/data"} <= {volume.split(":")[1] for volume in services["app"]["volumes"]}
    assert services["dev"]["environment"]["TEST_MODE"] == "true"
    assert all(port.startswith("127.0.0.1:") for port in services["dev"]["ports"])
    assert "healthcheck" in services["app"]
    for monitor in ("prometheus", "grafana"):  # on this host only, like the app
        assert all(port.startswith("127.0.0.1:") for port in services[monitor]["ports"])


def test_compose_scale_profile_shares_state_and_starts_after_one_migration() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    replicas = [services[f"app-{n}"] for n in (1, 2, 3)]
    for replica in replicas:
        assert replica["environment"]["DATABASE_URL"].startswith("postgresql://galaxy:${POSTGRES_PASSWORD")
        assert replica["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert replica["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert {"logs:/app/logs", "data:/app/data"} <= set(replica["volumes"])  # one volume for all replicas
        assert "ports" not in replica  # reached through the load balancer only
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert "POSTGRES_PASSWORD" not in services["postgres"]["environment"]  # a secret file, not a literal
    config = (ROOT / "deploy/haproxy/haproxy.cfg").read_text()
    for needed in ("cookie SERVERID insert", "uri /ready", "option redispatch", "timeout tunnel", "option forwardfor",
                   *(f"server app-{n} app-{n}:8080" for n in (1, 2, 3))):
        assert needed in config, needed


def test_devcontainer() -> None:
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert "3.12" in config["image"] and 8080 in config["forwardPorts"]
    assert "uv sync" in config["onCreateCommand"]
    assert set(config["customizations"]["vscode"]["extensions"]) >= {"ms-python.python", "charliermarsh.ruff"}


def test_kubernetes_probes_sign_in_and_the_pod_runs_locked_down() -> None:
    deployment = yaml.safe_load((ROOT / "deploy/k8s/base/workload/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    app = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
    assert app["securityContext"]["readOnlyRootFilesystem"] is True
    assert app["livenessProbe"]["httpGet"]["path"] == "/health"
    probe = " ".join(app["readinessProbe"]["exec"]["command"])
    assert "/ready" in probe and "probe@galaxy-chat.local" in probe and "TRUSTED_PROXY_SECRET" in probe
    assert {mount["mountPath"] for mount in app["volumeMounts"]} == {"/app/logs", "/app/data", "/tmp"}
    ingress = yaml.safe_load((ROOT / "deploy/k8s/base/shared/ingress.yaml").read_text())
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def test_kubernetes_pods_drain_within_their_grace_period_and_migrate_first() -> None:
    pod = yaml.safe_load((ROOT / "deploy/k8s/base/workload/deployment.yaml").read_text())["spec"]["template"]["spec"]
    settings = yaml.safe_load((ROOT / "deploy/k8s/base/shared/kustomization.yaml").read_text())
    literals = dict(item.split("=", 1) for item in settings["configMapGenerator"][0]["literals"])
    pause = int(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    drain = float(literals["DRAIN_TIMEOUT_S"].split()[0])
    assert pod["terminationGracePeriodSeconds"] > pause + drain + float(literals["SHUTDOWN_TIMEOUT_S"]) + 5
    migrate = next(c for c in pod["initContainers"] if c["name"] == "migrate")
    assert migrate["args"] == ["db", "upgrade"]
    stores = yaml.safe_load((ROOT / "deploy/k8s/components/shared-stores/kustomization.yaml").read_text())
    patch = yaml.safe_load(stores["patches"][0]["patch"])["spec"]["template"]["spec"]
    env = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in patch["containers"][0]["env"]}
    assert env == {name: {"name": "galaxy-chat-stores", "key": name} for name in ("DATABASE_URL", "REDIS_URL")}
    for overlay in ("staging", "prod"):
        kustomization = yaml.safe_load((ROOT / f"deploy/k8s/overlays/{overlay}/kustomization.yaml").read_text())
        assert "../../components/shared-stores" in kustomization["components"]
