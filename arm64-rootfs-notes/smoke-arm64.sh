#!/usr/bin/env bash
# Smoke test of the arm64 package on an x86-64 machine under qemu-user (see README.md in this folder):
#   1. edge-agent --version (arm64, emulated)
#   2. edgectl bundle verify (arm64) of a bundle made and signed by the amd64 edgectl
#   3. one inference of samples/vibration/vibration.onnx with `edgectl infer --onnx` on arm64 and on amd64;
#      every output value must agree within 1e-5
#
#   arm64-rootfs-notes/smoke-arm64.sh [ARM64_DEB [AMD64_DEB]]   (default: artifacts/deb/edge-agent_*_{arm64,amd64}.deb)
#
# Needs (Debian/Ubuntu): dpkg --add-architecture arm64; apt-get install qemu-user-static libc6:arm64
# libstdc++6:arm64 libgcc-s1:arm64 libssl3:arm64; and root (or CAP_SYS_ADMIN) for `unshare -m` + the
# /proc/cpuinfo bind mount that ONNX Runtime needs under qemu-user.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
last() { [ $# -gt 0 ] && eval "echo \"\${$#}\""; }
shopt -s nullglob
arm_deb="${1:-$(last "$repo"/artifacts/deb/edge-agent_*_arm64.deb)}"
x64_deb="${2:-$(last "$repo"/artifacts/deb/edge-agent_*_amd64.deb)}"
shopt -u nullglob
# shellcheck disable=SC2015 # the block after || only prints and exits
[ -f "$arm_deb" ] && [ -f "$x64_deb" ] ||
    { echo "smoke-arm64: build both packages first (packaging/build-deb.sh arm64; packaging/build-deb.sh amd64)" >&2; exit 2; }
qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
[ -n "$qemu" ] || { echo "smoke-arm64: qemu-aarch64-static not found (apt-get install qemu-user-static)" >&2; exit 2; }
[ -e /lib/ld-linux-aarch64.so.1 ] ||
    { echo "smoke-arm64: no arm64 loader (dpkg --add-architecture arm64; apt-get install libc6:arm64 libstdc++6:arm64)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-smoke-arm64.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$arm_deb" "$work/arm64"
dpkg-deb -x "$x64_deb" "$work/amd64"
arm="$work/arm64/usr/lib/edge-agent"
x64="$work/amd64/usr/lib/edge-agent"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
version="$(dpkg-deb -f "$arm_deb" Version)"

echo "::: 1. edge-agent --version (arm64 under $(basename "$qemu"))"
out="$("$qemu" "$arm/edge-agent" --version)"
echo "$out"
[ "$out" = "edge-agent ${version//\~/-}" ] || { echo "FAIL: expected 'edge-agent $version'" >&2; exit 1; }

echo "::: 2. bundle signed by amd64 edgectl, verified by arm64 edgectl"
"$x64/edgectl" keys generate --out "$work/keys" >/dev/null
"$x64/edgectl" bundle create --model "$repo/samples/vibration/vibration.onnx" --name vibration --version 1.0.0 \
    --arch arm64 --key "$work/keys/release.key.pem" --out "$work/vibration-1.0.0.edgebundle" >/dev/null
"$qemu" "$arm/edgectl" bundle verify "$work/vibration-1.0.0.edgebundle" --trust "$work/keys/release.pub.pem" --arch arm64

echo "::: 3. one inference on arm64 (emulated, with an arm64 /proc/cpuinfo) and on amd64"
request="$repo/samples/vibration/request.json"
model="$repo/samples/vibration/vibration.onnx"
"$x64/edgectl" infer vibration --onnx "$model" --input "$request" > "$work/x64.json"
# ONNX Runtime reads /proc/cpuinfo to pick its kernels; under qemu-user it sees the host's x86 text and crashes
# (SIGSEGV). A private mount namespace shows it an arm64 cpuinfo instead, for this one process tree only.
# Needs root (or CAP_SYS_ADMIN) for the mount namespace: sudo when not root.
if [ "$(id -u)" = 0 ]; then as_root=(); else as_root=(sudo); fi
# shellcheck disable=SC2016 # $1 and $@ belong to the inner sh
"${as_root[@]}" unshare -m sh -c 'mount --bind "$1" /proc/cpuinfo && shift && exec "$@"' sh "$here/arm64-cpuinfo.txt" \
    "$qemu" "$arm/edgectl" infer vibration --onnx "$model" --input "$request" > "$work/arm64.json"
python3 - "$work/x64.json" "$work/arm64.json" <<'PY'
import json, sys
x64, arm = (json.load(open(p)) for p in sys.argv[1:3])
outs = lambda r: {o["name"]: o for o in r["outputs"]}
a, b = outs(x64), outs(arm)
assert a.keys() == b.keys(), (a.keys(), b.keys())
worst = 0.0
for name in a:
    assert a[name]["shape"] == b[name]["shape"], name
    for u, v in zip(a[name]["data"], b[name]["data"], strict=True):
        worst = max(worst, abs(u - v))
print(f"outputs {sorted(a)}: max |x64 - arm64| = {worst:.3g}")
sys.exit(0 if worst <= 1e-5 else 1)
PY
echo "smoke-arm64: ok (edge-agent $version)"
