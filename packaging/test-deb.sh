#!/usr/bin/env bash
# "check && ok ... || fail ..." is deliberate: ok only echoes, so fail runs exactly when the check fails.
# shellcheck disable=SC2015
# Layout test of an edge-agent .deb: extracts it with dpkg-deb (no root, no dpkg database touched) and checks
# the file layout, the conffiles, the maintainer scripts, the packaged config, and that the extracted
# edge-agent and edgectl run (only when the package's architecture is this machine's).
#
#   packaging/test-deb.sh artifacts/deb/edge-agent_0.1.0_amd64.deb
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 PACKAGE.deb" >&2; exit 2; }
deb="$1"
root="$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-deb-test.XXXXXX")"
trap 'rm -rf "$root"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

dpkg-deb -x "$deb" "$root/fs"
dpkg-deb -e "$deb" "$root/DEBIAN"
field() { dpkg-deb -f "$deb" "$1"; }
arch="$(field Architecture)"
version="$(field Version)"
[ "$(field Package)" = edge-agent ] && ok "Package: edge-agent" || fail "Package is $(field Package)"
[ "$(basename "$deb")" = "edge-agent_${version}_${arch}.deb" ] && ok "file name matches $version/$arch" ||
    fail "file name $(basename "$deb") does not match Version $version, Architecture $arch"

# Layout.
for file in usr/lib/edge-agent/edge-agent usr/lib/edge-agent/edgectl; do
    [ -f "$root/fs/$file" ] && [ -x "$root/fs/$file" ] && ok "$file executable" || fail "$file missing or not executable"
done
for file in usr/lib/edge-agent/libonnxruntime.so usr/lib/edge-agent/libcoreclr.so \
    usr/lib/edge-agent/edge-agent.dll usr/lib/edge-agent/edgectl.dll \
    lib/systemd/system/edge-agent.service etc/edge-agent/edge-agent.json usr/lib/sysusers.d/edge-agent.conf \
    usr/share/doc/edge-agent/copyright usr/share/doc/edge-agent/changelog.gz \
    usr/share/lintian/overrides/edge-agent; do
    [ -f "$root/fs/$file" ] && ok "$file" || fail "$file missing"
done
[ -d "$root/fs/etc/edge-agent/trust" ] && ok "etc/edge-agent/trust/" || fail "etc/edge-agent/trust/ missing"
for link in edge-agent edgectl; do
    target="$(readlink "$root/fs/usr/bin/$link" || true)"
    [ "$target" = "../lib/edge-agent/$link" ] && [ -x "$root/fs/usr/bin/$link" ] &&
        ok "usr/bin/$link -> $target" || fail "usr/bin/$link is not a symlink to ../lib/edge-agent/$link ($target)"
done
grep -q '^ExecStart=/usr/lib/edge-agent/edge-agent' "$root/fs/lib/systemd/system/edge-agent.service" &&
    ok "unit runs /usr/lib/edge-agent/edge-agent" || fail "unit ExecStart is not /usr/lib/edge-agent/edge-agent"
grep -q -- '--config /etc/edge-agent/edge-agent.json' "$root/fs/lib/systemd/system/edge-agent.service" &&
    ok "unit reads /etc/edge-agent/edge-agent.json" || fail "unit does not pass --config /etc/edge-agent/edge-agent.json"
grep -Eq '^u[[:space:]]+edge-agent[[:space:]]' "$root/fs/usr/lib/sysusers.d/edge-agent.conf" &&
    ok "sysusers.d declares user edge-agent" || fail "sysusers.d does not declare edge-agent"

# Nothing for another platform.
foreign="$(cd "$root/fs/usr/lib/edge-agent" && find . \( -path ./runtimes -o -name '*.dylib' -o -name 'onnxruntime*.dll' -o -name '*.pdb' \) -print)"
[ -z "$foreign" ] && ok "no runtimes/, Windows ORT DLLs, dylibs or pdbs" || fail "foreign files: $foreign"
case "$arch" in amd64) machine=62 ;; arm64) machine=183 ;; *) machine=unknown ;; esac
wrong=""
while IFS= read -r -d '' so; do
    [ "$(od -An -tu2 -j18 -N2 "$so" | tr -d ' \n')" = "$machine" ] || wrong+=" ${so#"$root/fs/"}"
done < <(find "$root/fs/usr/lib/edge-agent" -name '*.so' -type f -print0)
[ -z "$wrong" ] && ok "every .so is ELF for $arch" || fail "shared objects for another machine:$wrong"
owners="$(dpkg-deb -c "$deb" | awk '{print $2}' | sort -u)"
[ "$owners" = "root/root" ] && ok "every file root/root" || fail "owners: $owners"

# Conffiles and maintainer scripts.
grep -qx /etc/edge-agent/edge-agent.json "$root/DEBIAN/conffiles" && ok "conffile /etc/edge-agent/edge-agent.json" ||
    fail "/etc/edge-agent/edge-agent.json is not in conffiles"
while read -r conffile; do
    [ -f "$root/fs$conffile" ] || fail "conffile $conffile is not in the package"
done < "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    if [ -x "$root/DEBIAN/$script" ] && sh -n "$root/DEBIAN/$script"; then ok "$script executable, sh -n"; else fail "$script"; fi
done
grep -q 'rm -rf /var/lib/edge-agent' "$root/DEBIAN/postrm" &&
    awk '/rm -rf \/var\/lib\/edge-agent/ { exit !(inpurge) } /"\$1" = "purge"/ { inpurge = 1 }' "$root/DEBIAN/postrm" &&
    ok "postrm deletes state only in its purge branch" || fail "postrm state removal is not guarded by purge"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$root/fs/etc/edge-agent/edge-agent.json" &&
    ok "default config is JSON" || fail "default config is not valid JSON"

# Run what was extracted, when this machine can.
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    out="$("$root/fs/usr/bin/edge-agent" --version)" || true
    [ "$out" = "edge-agent ${version//\~/-}" ] && ok "edge-agent --version: $out" || fail "edge-agent --version printed '$out'"
    out="$("$root/fs/usr/bin/edgectl" --version)" || true
    [ "${out%%+*}" = "${version//\~/-}" ] && ok "edgectl --version: $out" || fail "edgectl --version printed '$out'"
    # The packaged config parses and validates except for the release key the admin still has to add.
    set +e
    out="$("$root/fs/usr/bin/edge-agent" --config "$root/fs/etc/edge-agent/edge-agent.json" 2>&1)"
    status=$?
    set -e
    [ "$status" = 2 ] && [ "$out" = "config error: Trust:PublicKeys:0 file not found: /etc/edge-agent/trust/release.pub.pem" ] &&
        ok "default config: only the trust key is missing" || fail "default config: exit $status, '$out'"
else
    echo "note: $arch package on $(dpkg --print-architecture): not running its binaries (see arm64-rootfs-notes/smoke-arm64.sh)"
fi

if [ "$failures" -gt 0 ]; then
    echo "test-deb: $failures check(s) failed for $(basename "$deb")" >&2
    exit 1
fi
echo "test-deb: all checks passed for $(basename "$deb")"
