#!/usr/bin/env bash
# Ensure Podman's Docker-compatible API for the docker launcher's tests, which then run
# against Docker and Podman both:
#
#   export PIPEYARD_TEST_PODMAN_HOST="$(scripts/start-podman.sh)"   # unix:///run/podman/podman.sock
#
# Idempotent: a service that already answers on the socket is used as it is. Otherwise
# Debian's podman is installed when missing and `podman system service` is started in the
# background (rootful, like the dockerd of start-docker.sh).
#
# Why a containers.conf of its own: for root, Podman sets each container's RLIMIT_NOFILE
# to 1048576 and RLIMIT_NPROC to its own limit, and runc fails with "error setting rlimit
# type 7 (6): operation not permitted" where this process's hard limits are lower (as in
# sandboxes and CI containers). The defaults written here are the limits we actually have.
# Settings (environment): PIPEYARD_PODMAN_DIR (default /tmp/pipeyard-podman: conf, log, pid).
set -euo pipefail

sock=/run/podman/podman.sock
url="unix://$sock"
state_dir="${PIPEYARD_PODMAN_DIR:-/tmp/pipeyard-podman}"
log() { echo "start-podman: $*" >&2; }
as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}
service_up() { [[ -S "$sock" ]] && podman --remote --url "$url" version >/dev/null 2>&1; }

if command -v podman >/dev/null 2>&1 && service_up; then
    echo "$url"
    exit 0
fi
if ! command -v podman >/dev/null 2>&1; then
    log "installing Debian's podman"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
fi

mkdir -p "$state_dir"
as_root mkdir -p "$(dirname "$sock")"
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
# Podman lowers its own RLIMIT_NPROC to 32768 when it starts as root; no container may exceed it.
if [[ "$nproc" == unlimited || "$nproc" -gt 32768 ]]; then nproc=32768; fi
if [[ "$nofile" == unlimited ]]; then nofile=1048576; fi
cat >"$state_dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
CONF

if [[ -f "$state_dir/pid" ]] && kill -0 "$(cat "$state_dir/pid")" 2>/dev/null; then
    as_root kill "$(cat "$state_dir/pid")" 2>/dev/null || true
    sleep 1
fi
log "starting podman system service on $url (log in $state_dir/service.log)"
# In its own directory: Podman 4.x's conmon writes a file named "oom" into its working
# directory when a container is OOM-killed on cgroup v1 (and then does not report OOMKilled).
cd "$state_dir"
as_root sh -c "CONTAINERS_CONF='$state_dir/containers.conf' nohup podman system service --time=0 '$url' \
    >'$state_dir/service.log' 2>&1 & echo \$! >'$state_dir/pid'"
for _ in $(seq 1 60); do
    if service_up; then
        echo "$url"
        exit 0
    fi
    if ! kill -0 "$(cat "$state_dir/pid")" 2>/dev/null; then break; fi
    sleep 1
done
log "podman system service did not come up; last lines of its log:"
tail -n 5 "$state_dir/service.log" >&2 || true
exit 1
