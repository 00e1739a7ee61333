#!/bin/sh
# Makes a private CA and the certificates of an EdgeAgent broker, its devices and the operator (openssl only).
#
#   make-certs.sh [-o DIR] [-n BROKER_CN] [-s BROKER_SANS] [-D DAYS] [CLIENT_CN ...]
#
#   -o DIR          where to write (default ./certs); an existing DIR/ca.key is reused, so devices can be added later
#   -n BROKER_CN    the broker certificate's CN (default: localhost)
#   -s BROKER_SANS  subjectAltName of the broker, what devices put in Mqtt:Url
#                   (default: DNS:localhost,IP:127.0.0.1; e.g. DNS:broker.example.com,IP:10.0.0.5)
#   -D DAYS         validity of the new leaf certificates (default 825; the CA gets 3650)
#   CLIENT_CN       one client certificate per name: a device id (Agent:DeviceId) or "operator"
#
# Writes ca.crt/ca.key, broker.crt/broker.key and NAME.crt/NAME.key for each client. Keys are EC P-256.
# Keep ca.key offline; copy ca.crt + NAME.crt + NAME.key to each device.
set -eu

out=./certs
broker_cn=localhost
broker_sans=DNS:localhost,IP:127.0.0.1
days=825
while getopts o:n:s:D: opt; do
    case "$opt" in
        o) out=$OPTARG ;;
        n) broker_cn=$OPTARG ;;
        s) broker_sans=$OPTARG ;;
        D) days=$OPTARG ;;
        *) sed -n '2,16p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

mkdir -p "$out"
umask 077

if [ ! -f "$out/ca.key" ]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
        -subj "/CN=EdgeAgent broker CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
    echo "made $out/ca.crt (keep $out/ca.key offline)"
fi

# leaf NAME CN EXTENSIONS...: a key and a certificate signed by the CA.
leaf() {
    name=$1 cn=$2 ext=$3
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
        -keyout "$out/$name.key" -out "$out/$name.csr" 2>/dev/null
    printf '%s\n' "$ext" > "$out/$name.ext"
    openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
        -days "$days" -sha256 -extfile "$out/$name.ext" -out "$out/$name.crt" 2>/dev/null
    rm -f "$out/$name.csr" "$out/$name.ext"
    echo "made $out/$name.crt (CN=$cn)"
}

if [ ! -f "$out/broker.crt" ]; then
    leaf broker "$broker_cn" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth
subjectAltName=$broker_sans"
fi

for client in "$@"; do
    case "$client" in
        *[!A-Za-z0-9._-]*|'') echo "make-certs.sh: '$client' may hold only letters, digits, '.', '_' and '-' (it is the MQTT user name)" >&2; exit 2 ;;
    esac
    leaf "$client" "$client" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=clientAuth"
done

# Certificates are public; keys stay private (give broker.key to the mosquitto user: chown mosquitto broker.key).
chmod 0644 "$out"/*.crt
