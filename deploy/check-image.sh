#!/usr/bin/env bash
# Build the Dockerfile and check the image the way an operator would run it, without a Docker engine:
#   podman (root, runc, cgroupfs, file events, overlay storage), a minimal Debian 12 base made by mmdebstrap
#   (no registry image is pulled), then in the running container: /health, a signed-in page, /ready, a /calc
#   and a /python command through POST /api/commands, the user id, the image's HEALTHCHECK, and a SIGTERM stop
#   with a command still running (it must exit 0 within 10 s and log the cut-off command).
# Every step is bounded by `timeout` and prints its duration; any failure exits non-zero with the reason.
#
# Environment: CHECK_IMAGE_SANDBOX=any accepts the Landlock fallback for /python (default: bubblewrap required,
# since the container runs with the options the README documents for it); GALAXY_CHAT_CACHE (default
# ~/.cache/galaxy-chat) keeps the base tarball for a week between runs on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

IMAGE=localhost/galaxy-chat:check
BASE_IMAGE=localhost/galaxy-chat-base:bookworm
SUITE=bookworm
BASE_PACKAGES=python3,python3-venv,ca-certificates
CACHE_DIR=${GALAXY_CHAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/galaxy-chat}
SANDBOX_EXPECTED=${CHECK_IMAGE_SANDBOX:-bubblewrap}
CONTAINER=galaxy-chat-check-$$
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs --events-backend file --storage-driver overlay)
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
HOST_CA=/etc/ssl/certs/ca-certificates.crt
WORK=$(mktemp -d /tmp/galaxy-chat-check.XXXXXX)
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
PROBE_USER=ci@galaxy-chat.local
TOTAL_START=$(date +%s.%N)

fail() { echo "check-image: FAILED: $*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
STEP_START=0
begin() { STEP_START=$(date +%s.%N); echo "==> $*"; }
done_step() { echo "    ok ($(elapsed "$STEP_START") s)${1:+: $1}"; }

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && timeout 20 "${PODMAN[@]}" container exists "$CONTAINER" 2>/dev/null; then
    echo "--- last lines of the container's log ---" >&2
    timeout 20 "${PODMAN[@]}" logs --tail 40 "$CONTAINER" 2>&1 | grep -v 'level=error msg=".*systemd' >&2 || true
  fi
  timeout 60 "${PODMAN[@]}" rm -f -v "$CONTAINER" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  echo "check-image: total $(elapsed "$TOTAL_START") s, $([ "$status" -eq 0 ] && echo passed || echo failed)"
}
trap cleanup EXIT

# --- tools -------------------------------------------------------------------------------------------------
begin "install podman, runc, mmdebstrap, CNI plugins (Debian packages) if missing"
missing=()
for tool in podman:podman runc:runc mmdebstrap:mmdebstrap curl:curl iptables:iptables newuidmap:uidmap; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
[ -e /usr/lib/cni/portmap ] || missing+=(containernetworking-plugins)
if [ "${#missing[@]}" -gt 0 ]; then
  timeout 600 apt-get update -qq || fail "apt-get update"
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null \
    || fail "apt-get install ${missing[*]}"
fi
[ -s "$HOST_CA" ] || fail "no CA bundle at $HOST_CA (apt-get install ca-certificates)"
done_step "$(timeout 10 podman --version)"

# --- base image --------------------------------------------------------------------------------------------
begin "minimal Debian 12 base with python3 (mmdebstrap --variant=minbase)"
# The host's own apt sources, so the base comes from the same Debian mirror as the host's packages.
sources=()
for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -s "$file" ] && grep -Eq '^(deb |URIs:)' "$file"; then sources=("$file"); break; fi
done
key=$(printf '%s\n' "$SUITE" "$BASE_PACKAGES" "${sources[@]}" | cat - "${sources[@]}" | sha256sum | cut -c1-12)
tarball="$CACHE_DIR/debian-$SUITE-python3-$key.tar"
mkdir -p "$CACHE_DIR"
if [ -s "$tarball" ] && [ -n "$(find "$tarball" -mtime -7 2>/dev/null)" ]; then
  note="cached $tarball"
else
  rm -rf "$CACHE_DIR"/debian-"$SUITE"-python3-*.tar "$CACHE_DIR/partial.tar"
  # (the .tar ending tells mmdebstrap to write a tarball, not a directory)
  timeout 600 mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" \
    --aptopt='Acquire::Check-Valid-Until "false"' "$SUITE" "$CACHE_DIR/partial.tar" "${sources[@]}" \
    || { rm -f "$CACHE_DIR/partial.tar"; fail "mmdebstrap could not make the base"; }
  mv "$CACHE_DIR/partial.tar" "$tarball"
  note="built $tarball ($(du -m "$tarball" | cut -f1) MB)"
fi
label=$(timeout 30 "${PODMAN[@]}" image inspect --format '{{ index .Labels "galaxy-chat.base-key" }}' "$BASE_IMAGE" \
  2>/dev/null || true)
if [ "$label" != "$key" ]; then
  timeout 300 "${PODMAN[@]}" import --quiet --change 'CMD ["python3"]' --change "LABEL galaxy-chat.base-key=$key" \
    "$tarball" "$BASE_IMAGE" >/dev/null || fail "podman import of the base tarball"
fi
done_step "$note"

# --- build -------------------------------------------------------------------------------------------------
begin "podman build --build-arg BASE=$BASE_IMAGE (pip and uv inside use the host's CA bundle as a build secret)"
previous=$(timeout 30 "${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
timeout 900 "${PODMAN[@]}" build --quiet --format docker --isolation chroot --layers "${ULIMITS[@]}" \
  --secret "id=ca,src=$HOST_CA" --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log" >&2; fail "podman build"; }
size=$(timeout 30 "${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
current=$(timeout 30 "${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then  # last run's image, now untagged: free its disk
  timeout 60 "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
done_step "$IMAGE, $((size / 1000000)) MB"

# --- run ---------------------------------------------------------------------------------------------------
begin "run the container (read-only root, non-root, sandbox options from the README) on a free loopback port"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/logs" && chown 10001:10001 "$WORK/logs"
timeout 120 "${PODMAN[@]}" run -d --name "$CONTAINER" "${ULIMITS[@]}" --pids-limit 512 --health-interval disable \
  --read-only --tmpfs /tmp:size=256m --security-opt seccomp=unconfined --security-opt systempaths=unconfined \
  -p "127.0.0.1:$port:8080" -v "$WORK/logs:/app/logs" -e TRUSTED_PROXY_SECRET="$SECRET" -e DISABLE_LLM_CALLS=true \
  -e PERMISSIONS_FILE=/app/config/absent.yml \
  "$IMAGE" >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err" >&2; fail "podman run"; }
url="http://127.0.0.1:$port"
deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health" || true)" = 200 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "/health did not answer 200 within 60 s"
  [ "$(timeout 20 "${PODMAN[@]}" inspect --format '{{.State.Running}}' "$CONTAINER")" = true ] \
    || fail "the container stopped during start-up"
  sleep 0.5
done
done_step "$url/health is 200"

# (PERMISSIONS_FILE points nowhere, so everyone may use every tool: this checks the image, not the policy.)
AUTH=(-H "X-EMAIL-USER: $PROBE_USER" -H "X-Proxy-Secret: $SECRET")
begin "identity: no header is 401, the proxy's headers get the page"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/")
[ "$code" = 401 ] || fail "GET / without identity answered $code, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "X-EMAIL-USER: $PROBE_USER" "$url/")
[ "$code" = 401 ] || fail "GET / without the proxy secret answered $code, not 401"
curl -s --max-time 20 -o "$WORK/page.html" -w '%{http_code}' "${AUTH[@]}" "$url/" >"$WORK/code" || true
[ "$(cat "$WORK/code")" = 200 ] || fail "GET / with identity answered $(cat "$WORK/code"), not 200"
grep -q '<title>Galaxy Chat</title>' "$WORK/page.html" || fail "the page has no <title>Galaxy Chat</title>"
code=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' --max-time 10 "${AUTH[@]}" "$url/ready")
[ "$code" = 200 ] || fail "/ready answered $code: $(head -c 500 "$WORK/ready.json")"
done_step "401, 401, 200 with the title, /ready 200"

command_api() {  # command_api TEXT OUTFILE: POST it to /api/commands, fail unless 200
  python3 -c 'import json, sys; print(json.dumps({"text": sys.argv[1]}))' "$1" >"$WORK/request.json"
  code=$(curl -s -o "$2" -w '%{http_code}' --max-time 60 "${AUTH[@]}" -H 'Content-Type: application/json' \
    --data-binary "@$WORK/request.json" "$url/api/commands") || true
  [ "$code" = 200 ] || fail "POST /api/commands $1 answered $code: $(head -c 500 "$2")"
}
json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

begin "POST /api/commands {\"text\": \"/calc 2*(3+4)\"}"
command_api '/calc 2*(3+4)' "$WORK/calc.json"
text=$(json_field "$WORK/calc.json" text)
[ "$text" = "2*(3+4) = 14" ] || fail "/calc answered '$text', not '2*(3+4) = 14'"
done_step "$text"

begin "POST /api/commands /python (the sandbox inside the container)"
command_api '/python import os; print(6 * 7, os.getuid())' "$WORK/python.json"
[ "$(json_field "$WORK/python.json" ok)" = True ] || fail "/python failed: $(json_field "$WORK/python.json" text)"
grep -q '^42 [0-9]' <<<"$(json_field "$WORK/python.json" text)" || fail "/python did not print 42"
sandbox=$(json_field "$WORK/python.json" text | grep -o 'sandbox: [^)]*' | head -1)
if [ "$(json_field "$WORK/python.json" reduced_isolation)" = True ] && [ "$SANDBOX_EXPECTED" = bubblewrap ]; then
  fail "/python ran with reduced isolation ($sandbox) although bubblewrap should work with these options"
fi
done_step "$sandbox"

begin "the app runs as uid 10001 (podman top) and the image's HEALTHCHECK passes"
users=$(timeout 20 "${PODMAN[@]}" top "$CONTAINER" huser 2>/dev/null | tail -n +2 | sort -u | tr '\n' ' ')
[ "$users" = "10001 " ] || fail "container processes run as: $users(expected only 10001)"
[ "$(timeout 20 "${PODMAN[@]}" exec "$CONTAINER" id -u)" = 10001 ] || fail "podman exec id -u is not 10001"
timeout 30 "${PODMAN[@]}" healthcheck run "$CONTAINER" >/dev/null 2>&1 || fail "the image's HEALTHCHECK failed"
done_step "uid 10001, healthy"

begin "SIGTERM with a command in flight: podman stop -t 10 must end it cleanly (exit 0) within 10 s"
python3 -c 'import json; print(json.dumps({"text": "/python import time; time.sleep(25)"}))' >"$WORK/slow.json"
curl -s -o "$WORK/slow.out" --max-time 40 "${AUTH[@]}" -H 'Content-Type: application/json' \
  --data-binary "@$WORK/slow.json" "$url/api/commands" &
slow_pid=$!
sleep 1.5
stop_start=$(date +%s.%N)
timeout 30 "${PODMAN[@]}" stop -t 10 "$CONTAINER" >/dev/null 2>&1 || fail "podman stop"
stop_s=$(elapsed "$stop_start")
wait "$slow_pid" 2>/dev/null || true
exit_code=$(timeout 20 "${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[ "$exit_code" = 0 ] || fail "the container exited with $exit_code after SIGTERM, not 0"
awk -v s="$stop_s" 'BEGIN { exit !(s < 10) }' || fail "stopping took $stop_s s (limit 10 s)"
# To a file first: `podman logs | grep -q` fails under pipefail when grep stops reading early (SIGPIPE).
timeout 20 "${PODMAN[@]}" logs "$CONTAINER" >"$WORK/container.log" 2>&1 || true
grep -q 'stopped by SIGTERM' "$WORK/container.log" || fail "no 'stopped by SIGTERM' in the log"
cut=$(grep -l '"text": "/python import time; time.sleep(25)"' "$WORK"/logs/*.jsonl 2>/dev/null | head -1)
[ -n "$cut" ] || fail "the in-flight command has no session log"
grep -q '"type": "session_end"' "$cut" || fail "the in-flight command's session log has no session_end line"
done_step "stopped in $stop_s s, exit code 0, the cut-off command was logged"

begin "remove the container"
timeout 60 "${PODMAN[@]}" rm -v "$CONTAINER" >/dev/null 2>&1 || fail "podman rm"
done_step
