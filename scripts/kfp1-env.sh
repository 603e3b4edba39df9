#!/usr/bin/env bash
# Create (once; later calls return at once) the separate venv holding kfp 1.8.22 that
# pipeyard uses to compile kfp 1.x pipeline files and the tests use for kfp 1.8's
# compiler and kfp.Client. Never touches the project's .venv.
# Usage: scripts/kfp1-env.sh [PATH]   (default: $PIPEYARD_KFP1_ENV, else $PIPEYARD_HOME/envs/kfp1-1.8.22)
# Prints the path of the environment's python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m pipeyard.v1.kfp1_env "$@"
