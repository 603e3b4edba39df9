#!/usr/bin/env bash
# Generate ui/src/api/types.ts from the server's OpenAPI document (server/schemas.py).
#   scripts/gen-api-types.sh          rewrite ui/src/api/types.ts
#   scripts/gen-api-types.sh --check  fail if ui/src/api/types.ts is not current (CI)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" scripts/dump_openapi.py > "$work/openapi.json"
ui/node_modules/.bin/openapi-typescript "$work/openapi.json" -o "$work/schema.ts" >/dev/null 2>&1 \
  || { ui/node_modules/.bin/openapi-typescript "$work/openapi.json" -o "$work/schema.ts"; exit 1; }
{
  cat scripts/api-types-header.ts
  cat "$work/schema.ts"
  cat scripts/api-types-aliases.ts
} > "$work/types.ts"

if [[ "${1:-}" == "--check" ]]; then
  if ! diff -u ui/src/api/types.ts "$work/types.ts"; then
    echo "ui/src/api/types.ts is not current: run scripts/gen-api-types.sh" >&2
    exit 1
  fi
else
  cp "$work/types.ts" ui/src/api/types.ts
fi
