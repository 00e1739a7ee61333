#!/usr/bin/env bash
# Every benchmark of the project in one command (docs/benchmarks.md): the outputs, JSON results and SVG plots go to
# artifacts/bench/<UTC time>/ together with machine.txt (cores, CPU, memory, load) and timings.txt.
#   bench/run-all.sh --quick    shorter blocks, fewer rounds, 200 simulated devices, 1-minute footprint run: < 10 min
#   bench/run-all.sh            the settings docs/benchmarks.md reports (about 40 min, most of it the 10-minute
#                               footprint run and the 1,000-device fleet)
# Needs mosquitto (chunks, outbox, fleet) and /usr/bin/python3 with python3-onnx (the generated models); without
# them the cases say SKIPPED and the rest still runs.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: bench/run-all.sh [--quick]" >&2; exit 2 ;;
esac
out="artifacts/bench/$(date -u +%Y%m%dT%H%M%SZ)$([ "$quick" = 1 ] && echo -quick)"
mkdir -p "$out"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cores: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "dotnet: $(dotnet --version)"
  echo "mosquitto: $(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null || echo none)"
  echo "quick: $quick"
} > "$out/machine.txt"

echo "::: building bench/EdgeAgent.Bench (Release)"
dotnet build -c Release bench/EdgeAgent.Bench -v q --nologo >/dev/null

run() {
  local name=$1
  shift
  echo "::: $name: $*"
  local start
  start=$(date +%s)
  dotnet run -c Release --no-build --project bench/EdgeAgent.Bench -- "$@" 2>&1 | tee "$out/$name.txt"
  echo "$name: $(($(date +%s) - start)) s, load after $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/timings.txt"
}

if [ "$quick" = 1 ]; then
  run serving serving --seconds 0.3 --rounds 1 --plots "$out"
  run chunks chunks --runs 1
  run drift drift --rounds 1 --passes 5
  run outbox outbox --rounds 1
  run fleet fleet --quick --json "$out/fleet.json"
  run footprint footprint --minutes 1 --json "$out/footprint.json"
else
  run serving serving --plots "$out"
  run chunks chunks
  run drift drift
  run outbox outbox
  run fleet fleet --json "$out/fleet.json"
  run footprint footprint --json "$out/footprint.json"
fi
echo "::: results in $out"
ls -l "$out"
