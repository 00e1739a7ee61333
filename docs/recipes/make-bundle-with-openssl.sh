#!/usr/bin/env bash
# Builds and signs an EdgeAgent bundle (NAME-VERSION.edgebundle) with standard tools only:
# tar, sha256sum, openssl, base64, dd, printf, wc, stat (and mkdir for the output folder).
# See docs/bundle-format.md for the format this produces.
#
# usage: make-bundle-with-openssl.sh MODEL NAME VERSION KEY.pem OUTDIR
#   MODEL    the ONNX model file
#   NAME     model name: ^[a-z0-9][a-z0-9._-]{0,63}$
#   VERSION  semantic version, e.g. 1.0.0
#   KEY.pem  EC P-256 private key (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY")
#   OUTDIR   where NAME-VERSION.edgebundle is written; the intermediate files
#            (manifest.json, pae.bin, sig.der, envelope.json, model.onnx) stay in
#            OUTDIR/NAME-VERSION.d/ for inspection
#
# Optional environment:
#   ARCHITECTURES  comma-separated target architectures, e.g. "arm64,x64" (default: any)
#   EXPIRES        RFC 3339 UTC expiry, e.g. 2027-01-01T00:00:00Z (default: never)
set -euo pipefail
export LC_ALL=C

if [ "$#" -ne 5 ]; then
  printf 'usage: %s MODEL NAME VERSION KEY.pem OUTDIR\n' "$0" >&2
  exit 2
fi

MODEL=$1 NAME=$2 VERSION=$3 KEY=$4 OUTDIR=$5
CHUNK_SIZE=65536
PAYLOAD_TYPE='application/vnd.edgeagent.manifest+json'
FILE_PATH='model.onnx'   # path of the model inside the bundle (and in the manifest)

[ -f "$MODEL" ] || { printf 'model not found: %s\n' "$MODEL" >&2; exit 1; }
[ -f "$KEY" ] || { printf 'key not found: %s\n' "$KEY" >&2; exit 1; }
[[ $NAME =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || { printf 'bad model name: %s\n' "$NAME" >&2; exit 1; }
[[ $VERSION =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)([-+][0-9A-Za-z.+-]+)?$ ]] \
  || { printf 'not a semantic version: %s\n' "$VERSION" >&2; exit 1; }

WORK="$OUTDIR/$NAME-$VERSION.d"
mkdir -p "$WORK"

# 1. The model file: length, whole-file sha256, and the sha256 of each 64 KiB chunk.
LENGTH=$(stat -c %s "$MODEL")
read -r SHA256 _ < <(sha256sum "$MODEL")
COUNT=$(( (LENGTH + CHUNK_SIZE - 1) / CHUNK_SIZE ))
CHUNKS=''
for (( i = 0; i < COUNT; i++ )); do
  read -r h _ < <(dd if="$MODEL" bs="$CHUNK_SIZE" skip="$i" count=1 status=none | sha256sum)
  CHUNKS+="${CHUNKS:+,}\"$h\""
done

ARCH_JSON=''
if [ -n "${ARCHITECTURES:-}" ]; then
  IFS=',' read -r -a arch_list <<< "$ARCHITECTURES"
  for a in "${arch_list[@]}"; do ARCH_JSON+="${ARCH_JSON:+,}\"$a\""; done
fi
EXPIRES_JSON=''
if [ -n "${EXPIRES:-}" ]; then EXPIRES_JSON=",\"expires\":\"$EXPIRES\""; fi
CREATED=$(TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' -1)

# 2. The manifest (the signed payload). Any valid JSON layout works: the exact bytes are what is signed.
printf '{"schema":"edgeagent.manifest/v1","name":"%s","version":"%s","created":"%s"%s,"architectures":[%s],"deviceTypes":[],"model":"%s","files":[{"path":"%s","sha256":"%s","length":%d,"chunkSize":%d,"chunks":[%s]}],"inputs":[],"outputs":[]}' \
  "$NAME" "$VERSION" "$CREATED" "$EXPIRES_JSON" "$ARCH_JSON" "$FILE_PATH" "$FILE_PATH" "$SHA256" "$LENGTH" "$CHUNK_SIZE" "$CHUNKS" \
  > "$WORK/manifest.json"

# 3. DSSE pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(payload)> <payload>", lengths in bytes.
PAYLOAD_LEN=$(wc -c < "$WORK/manifest.json")
printf 'DSSEv1 %d %s %d ' "${#PAYLOAD_TYPE}" "$PAYLOAD_TYPE" "$PAYLOAD_LEN" > "$WORK/pae.bin"
dd if="$WORK/manifest.json" status=none >> "$WORK/pae.bin"

# 4. Sign the PAE bytes (ECDSA P-256 / SHA-256, DER signature) and compute the keyid
#    (lowercase hex sha256 of the public key's DER SubjectPublicKeyInfo).
openssl dgst -sha256 -sign "$KEY" -out "$WORK/sig.der" "$WORK/pae.bin"
read -r KEYID _ < <(openssl pkey -in "$KEY" -pubout -outform DER | sha256sum)
SIG_B64=$(base64 -w0 < "$WORK/sig.der")
PAYLOAD_B64=$(base64 -w0 < "$WORK/manifest.json")

# 5. The DSSE envelope.
printf '{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}\n' \
  "$PAYLOAD_TYPE" "$PAYLOAD_B64" "$KEYID" "$SIG_B64" > "$WORK/envelope.json"

# 6. The tar: envelope.json plus each file at its manifest path.
dd if="$MODEL" of="$WORK/$FILE_PATH" status=none
BUNDLE="$OUTDIR/$NAME-$VERSION.edgebundle"
tar --format=posix -C "$WORK" -cf "$BUNDLE" envelope.json "$FILE_PATH"

printf '%s: %s %s, %d bytes in %d chunk(s), sha256 %s, keyid %s\n' "$BUNDLE" "$NAME" "$VERSION" "$LENGTH" "$COUNT" "$SHA256" "$KEYID"
