#!/usr/bin/env bash
# Fails when the committed build (src/EdgeAgent.Cli/Dashboard/wwwroot) is not what `npm run build` makes from
# web/dashboard now. CI runs it; fix a failure with `npm run build` in web/dashboard and commit the output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/../../src/EdgeAgent.Cli/Dashboard/wwwroot"
cd "$here"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

npx --no-install vite build --outDir "$tmp/wwwroot" --emptyOutDir --logLevel error >/dev/null

# -q: the bundle is one long minified line; name the files that differ rather than print them.
if ! diff -rq "$committed" "$tmp/wwwroot" >&2; then
  echo "check-build: src/EdgeAgent.Cli/Dashboard/wwwroot is not what web/dashboard builds; run 'npm run build' in web/dashboard and commit the output" >&2
  exit 1
fi
echo "check-build: the committed dashboard build is up to date"
