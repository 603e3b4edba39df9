#!/usr/bin/env bash
# Set up a checkout: .venv with pipeyard (editable) and the web UI built into
# src/pipeyard/server/static. Idempotent and quick when done.
#
#   scripts/setup.sh          development: runtime + every extra the tests need
#                             (Ray, moto, schemathesis, mypy, ...); used by scripts/test.sh
#   scripts/setup.sh --run    running: runtime + the examples' needs (scikit-learn) only;
#                             used by scripts/run.sh
#
# Each mode has its own stamp in .venv, so a development install also satisfies --run,
# while --run never pulls in the development extras. Nothing tracked is modified.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode=dev
case "${1:-}" in
  --run) mode=run ;;
  "" | --dev) mode=dev ;;
  *) echo "setup: unknown option ${1} (use --run or --dev)" >&2; exit 2 ;;
esac

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

fresh() { [[ -f "$1" && ! pyproject.toml -nt "$1" && ! setup.py -nt "$1" ]]; }

dev_stamp=.venv/.pipeyard-installed  # the name setup.sh always used, so existing checkouts stay set up
run_stamp=.venv/.pipeyard-installed-run
if [[ "$mode" == dev ]]; then
  stamp="$dev_stamp" extras="dev,examples,postgres"
else
  stamp="$run_stamp" extras="examples"
fi
# The UI build (npm) and the Python install (network-bound) overlap.
scripts/build-ui.sh &
ui_build=$!
if ! fresh "$stamp" && ! { [[ "$mode" == run ]] && fresh "$dev_stamp"; }; then
  echo "setup: installing pipeyard with extras [$extras] into .venv"
  # uv (from PyPI, like everything else) resolves and downloads in parallel: the runtime
  # install takes seconds where pip took minutes. pip stays the fallback when uv can't be had.
  if [[ ! -x .venv/bin/uv ]]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv \
      || echo "setup: could not install uv; installing with pip (slower)" >&2
  fi
  if [[ -x .venv/bin/uv ]]; then
    .venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[$extras]"
  else
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
  fi
  touch "$stamp"
fi
if ! wait "$ui_build"; then
  echo "setup: building the web UI failed (its output is above)" >&2
  exit 1
fi
