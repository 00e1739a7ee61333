#!/usr/bin/env bash
# Builds edge-agent_VERSION_ARCH.deb (ARCH: amd64 or arm64) with dpkg-deb from self-contained publishes of
# src/EdgeAgent.Agent (edge-agent) and src/EdgeAgent.Cli (edgectl), ReadyToRun. See packaging/README.md.
#
#   packaging/build-deb.sh amd64            -> artifacts/deb/edge-agent_VERSION_amd64.deb
#   OUT_DIR=/tmp/debs packaging/build-deb.sh arm64
#
# Prints the path of the .deb as its last line.
set -euo pipefail

usage() { echo "usage: $0 amd64|arm64" >&2; exit 2; }
[ $# -eq 1 ] || usage
arch="$1"
case "$arch" in
    amd64) rid=linux-x64; elf_machine=62 ;;   # EM_X86_64
    arm64) rid=linux-arm64; elf_machine=183 ;; # EM_AARCH64
    *) usage ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
out_dir="${OUT_DIR:-$root/artifacts/deb}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# One version source: <Version> in Directory.Build.props (AgentInfo.Version reads it from the assembly).
version="$(dotnet msbuild "$root/src/EdgeAgent.Agent/EdgeAgent.Agent.csproj" -getProperty:Version -nologo)"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "build-deb: bad version '$version'" >&2; exit 1; }
deb_version="${version//-/\~}" # 1.0.0-rc.1 -> 1.0.0~rc.1, which sorts before 1.0.0 as in SemVer

echo "::: publishing edge-agent and edgectl $version for $rid" >&2
# ReadyToRun: the runtime pack's own assemblies are precompiled already; this precompiles ours and the NuGet ones
# (MQTTnet, LiteDB, the ONNX Runtime wrapper, ...), which cut edge-agent's start-up to READY=1 without costing RSS
# (bench/EdgeAgent.Bench -- footprint, docs/benchmarks.md, issue 9). NativeAOT does not work yet (reflection-based
# System.Text.Json and options binding).
for project in EdgeAgent.Agent EdgeAgent.Cli; do
    dotnet publish "$root/src/$project/$project.csproj" -c Release -r "$rid" --self-contained -p:PublishReadyToRun=true \
        -p:DebugType=none -p:DebugSymbols=false -o "$work/publish/$project" -v q -nologo >&2
done

# Both apps share the runtime and libraries: merge them into one folder. A file both publish must be the same,
# except a managed assembly that both deps.json files list with the same assembly version (edge-agent takes
# Microsoft.Extensions.* from the ASP.NET Core runtime pack, edgectl from the newer NuGet servicing packages):
# then the higher file version is kept. Anything else that differs stops the build.
lib="$work/pkg/usr/lib/edge-agent"
mkdir -p "$lib"
python3 "$root/packaging/merge-publish.py" "$work/publish/EdgeAgent.Agent" "$work/publish/EdgeAgent.Cli" "$lib" >&2

# No foreign-platform native files: no runtimes/ tree, no Windows or macOS binaries, every ELF for this arch.
foreign="$(cd "$lib" && find . \( -path './runtimes' -o -name '*.dylib' -o -name '*.so.dbg' -o -name '*.pdb' \) -print)"
while IFS= read -r -d '' file; do
    magic="$(od -An -tx1 -N4 "$file" | tr -d ' \n')"
    if [ "$magic" = "7f454c46" ]; then
        machine="$(od -An -tu2 -j18 -N2 "$file" | tr -d ' \n')"
        [ "$machine" = "$elf_machine" ] || foreign+=$'\n'"$file (ELF machine $machine)"
    elif [[ "$file" == *.dll ]] && ! LC_ALL=C grep -aq 'BSJB' "$file"; then
        foreign+=$'\n'"$file (native Windows DLL)" # managed assemblies carry the CLI metadata signature BSJB
    fi
done < <(find "$lib" -type f -print0)
if [ -n "${foreign//$'\n'/}" ]; then
    echo "build-deb: foreign-platform files in the publish output:$foreign" >&2
    exit 1
fi

pkg="$work/pkg"
find "$lib" -type d -exec chmod 0755 {} +
find "$lib" -type f -exec chmod 0644 {} +
chmod 0755 "$lib/edge-agent" "$lib/edgectl"
install -d -m 0755 "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/usr/lib/sysusers.d" \
    "$pkg/etc/edge-agent/trust" "$pkg/usr/share/doc/edge-agent" "$pkg/DEBIAN"
ln -s ../lib/edge-agent/edge-agent "$pkg/usr/bin/edge-agent"
ln -s ../lib/edge-agent/edgectl "$pkg/usr/bin/edgectl"
install -m 0644 "$root/packaging/systemd/edge-agent.service" "$pkg/lib/systemd/system/edge-agent.service"
install -m 0644 "$root/packaging/debian/edge-agent.sysusers" "$pkg/usr/lib/sysusers.d/edge-agent.conf"
install -m 0644 "$root/packaging/debian/edge-agent.json" "$pkg/etc/edge-agent/edge-agent.json"
install -m 0644 "$root/packaging/debian/copyright" "$pkg/usr/share/doc/edge-agent/copyright"
install -m 0644 "$root/packaging/debian/README.trust" "$pkg/etc/edge-agent/trust/README"
install -d -m 0755 "$pkg/usr/share/lintian/overrides"
install -m 0644 "$root/packaging/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/edge-agent"
{
    echo "edge-agent ($deb_version) stable; urgency=medium"
    echo
    echo "  * Package built from the EdgeAgent repository (packaging/build-deb.sh)."
    echo
    echo " -- EdgeAgent <edge-agent@example.com>  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$pkg/usr/share/doc/edge-agent/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/edge-agent/changelog.gz"

for script in postinst prerm postrm; do
    install -m 0755 "$root/packaging/debian/$script" "$pkg/DEBIAN/$script"
done
printf '/etc/edge-agent/edge-agent.json\n/etc/edge-agent/trust/README\n' > "$pkg/DEBIAN/conffiles"
chmod 0644 "$pkg/DEBIAN/conffiles"

installed_size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    "$root/packaging/debian/control.in" > "$pkg/DEBIAN/control"
chmod 0644 "$pkg/DEBIAN/control"

deb="$out_dir/edge-agent_${deb_version}_${arch}.deb"
# --root-owner-group: every file root:root without fakeroot. xz keeps the ~60 MB of libraries small.
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
