#!/usr/bin/env bash
# Ensure a running container engine for the docker launcher's tests:
#
#   scripts/start-docker.sh || echo "no container engine: the docker launcher tests will skip"
#
# Idempotent: an engine that already answers (DOCKER_HOST or the default socket) is
# used as it is. Otherwise Debian's docker.io is installed when dockerd is missing
# and dockerd is started in the background, without touching iptables and without
# the default bridge (containers get the "none" network unless they ask for "host"),
# first with the overlay2 storage driver and, if that cannot start, with vfs.
# Settings (environment): PIPEYARD_DOCKERD_DIR (default /tmp/pipeyard-dockerd: log, pid).
set -euo pipefail

state_dir="${PIPEYARD_DOCKERD_DIR:-/tmp/pipeyard-dockerd}"
log() { echo "start-docker: $*" >&2; }

engine_up() { docker info >/dev/null 2>&1; }

as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

if command -v docker >/dev/null 2>&1 && engine_up; then
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
    log "installing Debian's docker.io"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"

mkdir -p "$state_dir"
wait_up() {
    local i
    for i in $(seq 1 60); do
        if engine_up; then return 0; fi
        if [[ -f "$state_dir/pid" ]] && ! kill -0 "$(cat "$state_dir/pid")" 2>/dev/null; then return 1; fi
        sleep 1
    done
    return 1
}

for driver in overlay2 vfs; do
    if [[ -f "$state_dir/pid" ]] && kill -0 "$(cat "$state_dir/pid")" 2>/dev/null; then
        # Started by an earlier call and still coming up.
        if wait_up; then exit 0; fi
        as_root kill "$(cat "$state_dir/pid")" 2>/dev/null || true
        sleep 2
    fi
    log "starting dockerd (storage driver $driver; log in $state_dir/dockerd.log)"
    as_root sh -c "nohup '$dockerd_bin' --iptables=false --bridge=none --storage-driver=$driver \
        >'$state_dir/dockerd.log' 2>&1 & echo \$! >'$state_dir/pid'"
    if wait_up; then
        exit 0
    fi
    log "dockerd with $driver did not come up; last lines of its log:"
    tail -n 5 "$state_dir/dockerd.log" >&2 || true
    as_root kill "$(cat "$state_dir/pid")" 2>/dev/null || true
    rm -f "$state_dir/pid"
    sleep 2
done
log "no container engine could be started"
exit 1
