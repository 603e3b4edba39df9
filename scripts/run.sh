#!/usr/bin/env bash
# The main job: set up, then serve the API and the UI at http://127.0.0.1:8888/
# (PIPEYARD_HOME, default ~/.pipeyard, holds the SQLite database, artifacts and logs).
# On the first start (an empty database) the examples are submitted to the server as
# soon as it answers, so the UI is usable at once and shows them running, then finished.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh --run

pipeyard=.venv/bin/pipeyard
host="${PIPEYARD_HOST:-127.0.0.1}"
port="${PIPEYARD_PORT:-8888}"
case "$host" in 0.0.0.0 | "") local_host=127.0.0.1 ;; ::) local_host="[::1]" ;; *) local_host="$host" ;; esac
url="http://$local_host:$port"

submit_examples() {
  # Wait (up to 2 minutes) for the server that replaces this shell below to answer.
  if ! .venv/bin/python - "$url/apis/v2beta1/healthz" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit(1)
PY
  then
    echo "run: the server did not answer at $url; examples not submitted" >&2
    return
  fi
  echo "run: first start: submitting the examples to $url"
  local logs
  logs="$(mktemp -d "${TMPDIR:-/tmp}/pipeyard-examples.XXXXXX")"
  for example in sequential iris_pipeline parallel_loop conditions exit_handler; do
    {
      if "$pipeyard" run "examples/$example.py" --server "$url" >"$logs/$example.log" 2>&1; then
        echo "run: example $example succeeded"
      else
        echo "run: example $example did not succeed; what the CLI said: $logs/$example.log" >&2
      fi
    } &
  done
  wait
  echo "run: the examples are done; see $url/#/runs"
}

if [[ -z "$($pipeyard runs list --json --limit 1 | tr -d '[]\n ')" ]]; then
  submit_examples &
fi
echo "run: serving on http://$host:$port/"
exec "$pipeyard" server --host "$host" --port "$port"
