#!/usr/bin/env bash
# Blue-green releases of Galaxy Chat on Kubernetes (the overlay deploy/k8s/overlays/prod).
#
#   deploy/bluegreen.sh deploy IMAGE   roll IMAGE out on the idle colour, switch the Service to it once every pod
#                                      is ready, then scale the old colour down after DRAIN_SECONDS; if the new
#                                      colour does not get ready (or the switch does not take), traffic stays on
#                                      (or goes back to) the old colour and the new one is scaled to 0: exit 1
#   deploy/bluegreen.sh rollback       send traffic back to the other colour (it still runs the previous image;
#                                      scaled up and waited for first)
#   deploy/bluegreen.sh status         which colour serves, and each colour's image and replicas
#
# The Service galaxy-chat selects pods by app.kubernetes.io/color; the idle colour runs at 0 replicas. Pages
# live in the pod that served them (NiceGUI), so the old colour keeps running DRAIN_SECONDS after a switch:
# open pages stay until their people reload, new ones go to the new colour.
#
# Environment: NAMESPACE (galaxy-chat), OVERLAY (deploy/k8s/overlays/prod), REPLICAS (2), READY_TIMEOUT (300s),
# DRAIN_SECONDS (120), KUBECTL (kubectl; it must reach the cluster, e.g. through KUBECONFIG).
set -euo pipefail

NAMESPACE=${NAMESPACE:-galaxy-chat}
OVERLAY=${OVERLAY:-$(dirname "$0")/k8s/overlays/prod}
REPLICAS=${REPLICAS:-2}
READY_TIMEOUT=${READY_TIMEOUT:-300s}
DRAIN_SECONDS=${DRAIN_SECONDS:-120}
KUBECTL=${KUBECTL:-kubectl}
APP=galaxy-chat
COLOR_LABEL=app.kubernetes.io/color

log() { echo "bluegreen: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
k() { "$KUBECTL" --namespace "$NAMESPACE" "$@"; }

other_colour() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }

active_colour() {  # the colour the Service sends traffic to; empty before the first release
  k get service "$APP" -o "jsonpath={.spec.selector.app\.kubernetes\.io/color}" 2>/dev/null || true
}

deployment_exists() { k get deployment "$APP-$1" >/dev/null 2>&1; }

switch_to() {
  log "switching Service $APP to $1"
  k patch service "$APP" --type merge -p "{\"spec\":{\"selector\":{\"$COLOR_LABEL\":\"$1\"}}}" >/dev/null
}

scale() {  # scale COLOUR N (when that Deployment exists)
  if deployment_exists "$1"; then
    log "scaling $APP-$1 to $2"
    k scale deployment "$APP-$1" --replicas "$2" >/dev/null
  fi
}

wait_ready() {  # every pod of the colour ready (readiness probe: /ready), within READY_TIMEOUT
  log "waiting up to $READY_TIMEOUT for $APP-$1 to be ready"
  k rollout status deployment "$APP-$1" --timeout "$READY_TIMEOUT"
}

serves() {  # the Service's ready endpoints are all pods of COLOUR, and there is at least one
  local pods
  pods=$(k get endpoints "$APP" -o 'jsonpath={range .subsets[*].addresses[*]}{.targetRef.name}{"\n"}{end}' \
    2>/dev/null || true)
  [ -n "$pods" ] && ! grep -qv "^$APP-$1-" <<<"$pods"
}

wait_serving() {  # up to 60 s for the Service's endpoints to be the new colour's pods
  local deadline=$((SECONDS + 60))
  until serves "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 2
  done
}

render() {  # render IMAGE FILE: the overlay with every Galaxy Chat container set to IMAGE, written to FILE
  local image=$1 out=$2 work current
  current=$("$KUBECTL" kustomize "$OVERLAY" | sed -n 's/^ *image: *//p' | head -1)
  [ -n "$current" ] || die "no image in $OVERLAY"
  work=$(mktemp -d "$OVERLAY/.bluegreen.XXXXXX")  # a throwaway overlay of the overlay (`..`)
  cat >"$work/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ..
images:
  - name: ${current%:*}
    newName: ${image%:*}
    newTag: ${image##*:}
EOF
  if ! "$KUBECTL" kustomize "$work" >"$out"; then rm -rf "$work"; die "kustomize could not render $OVERLAY"; fi
  rm -rf "$work"
}

deploy() {
  local image=$1 active idle manifest
  [[ "${image##*/}" == *:* ]] || die "IMAGE must name a tag, e.g. ghcr.io/owner/galaxy-chat:1.2.3"
  active=$(active_colour)
  if [ -n "$active" ]; then idle=$(other_colour "$active"); else idle=blue; fi
  log "active colour: ${active:-none (first release)}; deploying $image on $idle"
  manifest=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f '$manifest'" EXIT
  render "$image" "$manifest"
  # Shared objects and the idle colour only: the serving colour is never touched. (The Service's manifest has no
  # colour in its selector, so applying it keeps the colour this script set.)
  k apply -f "$manifest" -l "$COLOR_LABEL!=$(other_colour "$idle")"
  scale "$idle" "$REPLICAS"
  if ! wait_ready "$idle"; then
    log "$APP-$idle did not get ready: rolling back (traffic stays on ${active:-nothing})"
    k get pods -l "$COLOR_LABEL=$idle" -o wide >&2 || true
    scale "$idle" 0
    # Its previous template back, so that a later `rollback` to this colour brings the last good release.
    k rollout undo deployment "$APP-$idle" >/dev/null 2>&1 || true
    exit 1
  fi
  switch_to "$idle"
  if ! wait_serving "$idle"; then
    log "the Service does not reach $APP-$idle: rolling back"
    if [ -n "$active" ]; then switch_to "$active"; fi
    scale "$idle" 0
    k rollout undo deployment "$APP-$idle" >/dev/null 2>&1 || true
    exit 1
  fi
  log "$APP-$idle serves $image"
  if [ -n "$active" ]; then
    log "keeping $APP-$active for $DRAIN_SECONDS s for the pages still open on it"
    sleep "$DRAIN_SECONDS"
    scale "$active" 0
  fi
  log "done"
}

rollback() {
  local active previous
  active=$(active_colour)
  [ -n "$active" ] || die "the Service has no colour yet: nothing to roll back to"
  previous=$(other_colour "$active")
  deployment_exists "$previous" || die "$APP-$previous does not exist: nothing to roll back to"
  log "rolling back from $active to $previous ($(k get deployment "$APP-$previous" \
    -o 'jsonpath={.spec.template.spec.containers[0].image}'))"
  scale "$previous" "$REPLICAS"
  wait_ready "$previous" || { scale "$previous" 0; die "$APP-$previous did not get ready; traffic stays on $active"; }
  switch_to "$previous"
  wait_serving "$previous" || { switch_to "$active"; die "the Service does not reach $APP-$previous; back on $active"; }
  log "keeping $APP-$active for $DRAIN_SECONDS s for the pages still open on it"
  sleep "$DRAIN_SECONDS"
  scale "$active" 0
  log "done: $previous serves"
}

status() {
  echo "serving colour: $(active_colour)"
  k get deployments -l "app.kubernetes.io/name=$APP" \
    -o 'custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[0].image,WANTED:.spec.replicas,READY:.status.readyReplicas'
}

case "${1:-}" in
  deploy) [ $# -eq 2 ] || die "usage: $0 deploy IMAGE"; deploy "$2" ;;
  rollback) rollback ;;
  status) status ;;
  *) die "usage: $0 deploy IMAGE | rollback | status" ;;
esac
