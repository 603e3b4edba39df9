#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, install and start what the tests
# need (Chromium, PostgreSQL, a container engine, a kfp 1.8 environment), lint and type-check, then the Python tests (unit,
# contract on SQLite and PostgreSQL, conformance, integration with the real
# kfp.Client) and the UI tests (Vitest, then Playwright in Chromium).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
  echo "test: installing Debian's chromium for the browser tests"
  if [[ "$(id -u)" == 0 ]]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
scripts/setup.sh
export PIPEYARD_KFP1_ENV="${PIPEYARD_KFP1_ENV:-$root/.venv-kfp1}"; scripts/kfp1-env.sh "$PIPEYARD_KFP1_ENV" >/dev/null

export PIPEYARD_TEST_POSTGRES_URL="${PIPEYARD_TEST_POSTGRES_URL:-$(scripts/start-postgres.sh)}"
echo "test: PostgreSQL at $PIPEYARD_TEST_POSTGRES_URL"
# The docker launcher's tests need a container engine: Debian's docker.io, started here.
scripts/start-docker.sh || echo "test: no container engine; the docker launcher tests will skip"
# ...and again against Podman's Docker-compatible API (Debian's podman, started here).
if podman_host="$(scripts/start-podman.sh)"; then export PIPEYARD_TEST_PODMAN_HOST="$podman_host"
else echo "test: no Podman service; the docker launcher's Podman variants will skip"; fi

.venv/bin/ruff check src tests benchmarks examples
.venv/bin/mypy
.venv/bin/lint-imports
# ui/src/api/types.ts is generated from /openapi.json (server/schemas.py): it must be current.
scripts/gen-api-types.sh --check

# The slowest tests are listed at the end, so a slow CI run says where its time went.
.venv/bin/pytest -n 3 --dist loadgroup -q --durations=25 "$@"

npm --prefix ui test
npm --prefix ui run e2e
