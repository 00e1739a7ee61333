#!/usr/bin/env bash
# Gates for the systemd unit (run by .ci/run, and by hand): `systemd-analyze verify` must print nothing, and
# `systemd-analyze security --offline=yes` must score an exposure of at most 2.0.
# verify needs ExecStart's binary to exist, so it checks a copy of the unit whose ExecStart points at a stub executable;
# nothing else in the copy changes.
set -euo pipefail
unit="${1:-$(dirname "$0")/edge-agent.service}"
max_exposure="2.0"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' > "$work/edge-agent"
chmod +x "$work/edge-agent"
sed "s#^ExecStart=/usr/lib/edge-agent/edge-agent\( \|$\)#ExecStart=$work/edge-agent\1#" "$unit" > "$work/edge-agent.service"
grep -q "^ExecStart=$work/edge-agent" "$work/edge-agent.service" || { echo "unit gate: ExecStart is not /usr/lib/edge-agent/edge-agent" >&2; exit 1; }

verify="$(systemd-analyze verify "$work/edge-agent.service" 2>&1)" || true
if [ -n "$verify" ]; then
  echo "unit gate: systemd-analyze verify is not clean:" >&2
  echo "$verify" >&2
  exit 1
fi
echo "systemd-analyze verify: clean"

security="$(systemd-analyze security --offline=yes "$unit" 2>&1)" || true
exposure="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$security")"
if [ -z "$exposure" ]; then
  echo "unit gate: no exposure level in the output of systemd-analyze security:" >&2
  echo "$security" >&2
  exit 1
fi
echo "systemd-analyze security --offline=yes: exposure $exposure (at most $max_exposure)"
if ! awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
  echo "$security" | grep '✗' >&2
  echo "unit gate: exposure $exposure is above $max_exposure" >&2
  exit 1
fi
