#!/usr/bin/env bash
# Builds the C ABI (debug) and the CLI, starts the loopback simulator (KSeF + Fakturownia +
# NBP; KSEF_SIM_URL = http://127.0.0.1:PORT/v2), runs the PHPUnit tests and the documented
# example script against it.   ffi-c/php/run.sh [phpunit args...]   (KSEF_SPEC as for make)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/php-tests
mkdir -p "$OUT"
export KSEF_SPEC=${KSEF_SPEC:-$ROOT/../shared/ksef-spec}
KSEF_SPEC=$(cd "$KSEF_SPEC" && pwd)
cargo build -q -p ksef-ffi -p ksef-cli
export KSEF_LIB=$ROOT/target/debug/libksef_ffi.so
export KSEF_TMP=$OUT/tmp
rm -rf "$KSEF_TMP" && mkdir -p "$KSEF_TMP"

SIM_LOG=$OUT/sim.out
"$ROOT/target/debug/ksef" sim --port 0 >"$SIM_LOG" 2>&1 &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  [ -s "$SIM_LOG" ] && break
  sleep 0.1
done
export KSEF_SIM_URL
KSEF_SIM_URL=$(head -1 "$SIM_LOG")
case "$KSEF_SIM_URL" in http://*) ;; *) echo "simulator did not start: $(cat "$SIM_LOG")"; exit 1 ;; esac

phpunit -c ffi-c/php/phpunit.xml "$@"

for ex in ffi-c/php/examples/*.php; do
  [ -e "$ex" ] || continue
  echo "== php $ex"
  php "$ex" "$KSEF_SIM_URL"
done
