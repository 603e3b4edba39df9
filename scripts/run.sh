#!/usr/bin/env bash
# The main job: set up, run the examples once (so the UI has finished runs to show),
# then serve the API and the UI at http://127.0.0.1:8888/ (PIPEYARD_HOME, default
# ~/.pipeyard, holds the SQLite database, artifacts and logs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh --run

pipeyard=.venv/bin/pipeyard
if [[ -z "$($pipeyard runs list --json --limit 1 | tr -d '[]\n ')" ]]; then
  echo "run: first start: running the examples"
  for example in sequential iris_pipeline parallel_loop conditions exit_handler; do
    "$pipeyard" run "examples/$example.py" || true
  done
fi
echo "run: serving on http://${PIPEYARD_HOST:-127.0.0.1}:${PIPEYARD_PORT:-8888}/"
exec "$pipeyard" server --host "${PIPEYARD_HOST:-127.0.0.1}" --port "${PIPEYARD_PORT:-8888}"
