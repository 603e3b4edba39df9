#!/usr/bin/env bash
# Build the web UI into src/pipeyard/server/static (served by `pipeyard server`).
# Skips quickly when the build is newer than every UI source file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ui="$root/ui"
out="$root/src/pipeyard/server/static"
stamp="$out/.build-stamp"

if ! command -v npm >/dev/null 2>&1; then
  echo "build-ui: npm not found; install Node.js 20+ to build the web UI" >&2
  exit 1
fi

if [[ "${1:-}" != "--force" && -f "$stamp" ]]; then
  newer="$(find "$ui/src" "$ui/index.html" "$ui/package.json" "$ui/package-lock.json" "$ui/vite.config.ts" "$ui/tsconfig.json" -newer "$stamp" -print -quit 2>/dev/null || true)"
  if [[ -z "$newer" ]]; then
    echo "build-ui: up to date ($out)"
    exit 0
  fi
fi

cd "$ui"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm ci` installs exactly the committed lock and never rewrites it, so setup leaves
  # the checkout clean (`npm install` would update package-lock.json).
  echo "build-ui: installing the UI build tools with npm ci (ui/package-lock.json)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
npm run build
touch "$stamp"
echo "build-ui: built into $out"
