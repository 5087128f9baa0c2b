#!/usr/bin/env bash
# podman-down.sh - stop the API service started by podman-up.sh and remove the test containers.
# Idempotent; never fails.
#   --purge   also remove all images and storage (podman system reset)
set -uo pipefail
CI_DIR=${AUTOSENTRY_CI_DIR:-/var/tmp/autosentry-ci}
WORK=$CI_DIR/podman
SOCK=/run/podman/podman.sock
if command -v podman >/dev/null; then
  # Only containers the tests made (autosentry-* names) and leftovers of the busybox image.
  ids=$(podman ps -aq --filter name=autosentry- 2>/dev/null; podman ps -aq --filter ancestor=localhost/busybox:latest 2>/dev/null)
  # shellcheck disable=SC2086
  [ -n "${ids//[[:space:]]/}" ] && podman rm -f -t 2 $ids >/dev/null 2>&1 && echo "podman-down: removed test containers"
fi
if [ -f "$WORK/service.pid" ]; then
  p=$(cat "$WORK/service.pid")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p"
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null && echo "podman-down: service needed SIGKILL" >&2
    echo "podman-down: service stopped"
  fi
  rm -f "$WORK/service.pid" "$SOCK"
fi
[ "$(readlink /run/docker.sock 2>/dev/null)" = "$SOCK" ] && [ ! -S "$SOCK" ] && rm -f /run/docker.sock
if [ "${1:-}" = --purge ]; then
  podman system reset -f >/dev/null 2>&1
  rm -rf "$WORK"
  echo "podman-down: storage reset"
fi
exit 0
