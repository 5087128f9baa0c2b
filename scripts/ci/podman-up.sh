#!/usr/bin/env bash
# podman-up.sh - rootful podman serving the Docker API, for the docker backend tests. Idempotent.
#
#  * packages podman, runc, catatonit (and podman-docker only when no `docker` CLI is on PATH; the
#    real Docker CLI, e.g. /usr/local/bin/docker, is preferred and talks to podman's socket)
#  * /etc/containers/containers.conf: runc (crun rejects this kernel's hybrid cgroup layout),
#    ulimits that fit the hard RLIMIT_NOFILE (podman's root default 1048576 fails with EPERM:
#    CAP_SYS_RESOURCE is missing), cgroupfs, file events
#  * image localhost/busybox:latest imported from the busybox-static .deb (no registry needed)
#  * `podman system service` on /run/podman/podman.sock; /run/docker.sock is pointed at it unless
#    something else (a real Docker daemon) owns that path. Tests use
#    DOCKER_HOST=unix:///run/podman/podman.sock, so a real daemon is never touched.
#
#   AUTOSENTRY_CI_DIR=/var/tmp/autosentry-ci   working files in $AUTOSENTRY_CI_DIR/podman
set -euo pipefail
t0=$(date +%s.%N)
log() { printf '[podman-up %6.2fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{print a-b}')" "$*"; }
CI_DIR=${AUTOSENTRY_CI_DIR:-/var/tmp/autosentry-ci}
WORK=$CI_DIR/podman
SOCK=/run/podman/podman.sock
mkdir -p "$WORK"

need=()
for c in podman runc catatonit; do command -v $c >/dev/null || need+=("$c"); done
command -v docker >/dev/null || need+=(podman-docker)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
  log "installed"
fi

HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
CONF="# written by autosentry scripts/ci/podman-up.sh
[containers]
# the hard RLIMIT_NOFILE here is $HARD and CAP_SYS_RESOURCE is missing: podman's root default fails
default_ulimits = [\"nofile=$HARD:$HARD\", \"nproc=32768:32768\"]
[engine]
# crun: \"cgroups in hybrid mode not supported\" on this kernel's cgroup layout
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
mkdir -p /etc/containers
if [ "$(cat /etc/containers/containers.conf 2>/dev/null)" != "$CONF" ]; then
  if [ -s /etc/containers/containers.conf ] &&
    ! head -1 /etc/containers/containers.conf | grep -qE '^# written by (autosentry scripts/ci/)?podman-up.sh'; then
    cp /etc/containers/containers.conf "$WORK/containers.conf.orig"
    log "saved the previous containers.conf to $WORK/containers.conf.orig"
  fi
  printf '%s\n' "$CONF" >/etc/containers/containers.conf
  log "wrote /etc/containers/containers.conf"
fi
touch /etc/containers/nodocker # silences podman-docker's "Emulate Docker CLI" banner

if ! podman image exists localhost/busybox:latest; then
  log "building localhost/busybox:latest from busybox-static"
  rm -rf "$WORK/bb" && mkdir -p "$WORK/bb"
  (
    cd "$WORK/bb"
    apt-get download busybox-static >/dev/null 2>&1 || { apt-get update -qq && apt-get download busybox-static >/dev/null; }
    dpkg-deb -x busybox-static_*.deb x
    mkdir -p root/bin root/etc root/tmp root/proc root/sys root/dev root/root
    cp x/bin/busybox root/bin/
    for a in $(root/bin/busybox --list); do [ -e "root/bin/$a" ] || ln -s busybox "root/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >root/etc/passwd
    echo 'root:x:0:' >root/etc/group
    tar -C root -c . | podman import -q --change 'CMD ["/bin/sh"]' - localhost/busybox:latest >/dev/null
  )
  rm -rf "$WORK/bb"
fi

mkdir -p /run/podman
if ! curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
  log "starting podman system service on $SOCK"
  rm -f "$SOCK"
  setsid nohup podman system service --time=0 "unix://$SOCK" >"$WORK/service.log" 2>&1 </dev/null &
  echo $! >"$WORK/service.pid"
  for _ in $(seq 100); do curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
    echo "podman-up: the API service did not come up; $WORK/service.log:" >&2
    tail -20 "$WORK/service.log" >&2
    exit 1
  fi
fi
if [ ! -e /run/docker.sock ] || [ "$(readlink /run/docker.sock)" = "$SOCK" ]; then
  ln -sfn "$SOCK" /run/docker.sock
fi

export DOCKER_HOST=unix://$SOCK
docker run --rm localhost/busybox:latest true
log "ready: $(docker version --format 'docker CLI {{.Client.Version}} -> {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || podman --version), DOCKER_HOST=$DOCKER_HOST"
