#!/bin/sh
# Example staged rollout: vibration 1.1.0 to the devices of group line-a, in waves of 1 device, then 10 %, 50 %
# and all; the next wave starts when 95 % of the current one is Active (through probation); the rollout aborts and
# writes the previous desired entries back when more than 5 % of the devices targeted so far failed.
# Broker TLS from make-certs.sh (CN operator); the bundle must be published first (edgectl bundle publish).
set -eu
: "${BROKER:=mqtts://broker.example.com:8883}"
: "${CERTS:=./certs}"

exec edgectl rollout start \
    --model vibration --version 1.1.0 \
    --group line-a \
    --waves 1,10%,50%,100% \
    --success-threshold 95% \
    --abort-threshold 5% \
    --probation 10m \
    --wave-timeout 30m \
    --id vibration-1.1.0-line-a \
    --broker "$BROKER" --ca-file "$CERTS/ca.crt" --cert "$CERTS/operator.crt" --key "$CERTS/operator.key"

# While it runs, from any workstation:
#   edgectl rollout status vibration-1.1.0-line-a --broker ... (same TLS options)
#   edgectl rollout pause|resume|abort vibration-1.1.0-line-a --broker ...
