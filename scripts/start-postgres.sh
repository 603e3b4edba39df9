#!/usr/bin/env bash
# Ensure a local PostgreSQL server for the test suite and print the URL to use:
#
#   export PIPEYARD_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"
#
# Idempotent: a server this script started earlier is reused. It listens on
# 127.0.0.1 only, with trust authentication, so it is for tests, never for data.
# Settings (environment): PIPEYARD_PG_DIR (default /tmp/pipeyard-postgres),
# PIPEYARD_PG_PORT (default: the port used before, else a free one).
set -euo pipefail

base_dir="${PIPEYARD_PG_DIR:-/tmp/pipeyard-postgres}"
data_dir="$base_dir/data"
port_file="$base_dir/port"
log_file="$base_dir/server.log"
db_name="pipeyard_test"

log() { echo "start-postgres: $*" >&2; }

find_bin() {
    local name="$1" candidate
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    # Debian installs the server binaries outside PATH.
    for candidate in /usr/lib/postgresql/*/bin/"$name"; do
        if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
    return 1
}

if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
    log "initdb/pg_ctl not found; installing Debian's postgresql"
    if [ "$(id -u)" -ne 0 ]; then log "need root to apt-get install postgresql"; exit 1; fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
initdb_bin="$(find_bin initdb)"
pg_ctl_bin="$(find_bin pg_ctl)"
bin_dir="$(dirname "$pg_ctl_bin")"
psql_bin="$(find_bin psql || echo "$bin_dir/psql")"

# initdb and postgres refuse to run as root: run them as the "postgres" user then.
if [ "$(id -u)" -eq 0 ]; then
    db_user="postgres"
    if ! id "$db_user" >/dev/null 2>&1; then
        useradd --system --home-dir "$base_dir" --shell /usr/sbin/nologin "$db_user"
    fi
    as_db_user() { runuser -u "$db_user" -- "$@"; }
else
    db_user="$(id -un)"
    as_db_user() { "$@"; }
fi

mkdir -p "$base_dir"
if [ "$(id -u)" -eq 0 ]; then chown "$db_user" "$base_dir"; fi

if [ ! -s "$data_dir/PG_VERSION" ]; then
    log "initialising $data_dir"
    as_db_user "$initdb_bin" -D "$data_dir" -U "$db_user" --auth=trust \
        --encoding=UTF8 --locale=C >"$base_dir/initdb.log" 2>&1 \
        || { cat "$base_dir/initdb.log" >&2; exit 1; }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

if as_db_user "$pg_ctl_bin" -D "$data_dir" status >/dev/null 2>&1; then
    port="$(cat "$port_file")"
else
    port="${PIPEYARD_PG_PORT:-$(cat "$port_file" 2>/dev/null || true)}"
    if [ -z "$port" ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        port="$(free_port)"
    fi
    echo "$port" >"$port_file"
    log "starting on 127.0.0.1:$port"
    as_db_user "$pg_ctl_bin" -D "$data_dir" -l "$log_file" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $base_dir -c max_connections=200 -c fsync=off" \
        start >&2 || { tail -n 30 "$log_file" >&2; exit 1; }
fi

psql_cmd=("$psql_bin" -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${psql_cmd[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != "1" ]; then
    log "creating database $db_name"
    "${psql_cmd[@]}" -c "CREATE DATABASE $db_name" >&2
fi

echo "postgresql+psycopg://$db_user@127.0.0.1:$port/$db_name"
