#!/usr/bin/env bash
# Builds the C ABI (debug), compiles every ffi-c/tests/c/test_*.c and examples/c/*.c with
# -std=c11 -Wall -Wextra -Werror against the committed include/ksef.h, and runs each under
# valgrind (no leaks, no errors) with a loopback simulator started for them (KSEF_SIM_URL).
#   ffi-c/tests/c/run.sh [test_name ...]     (from the repository root; KSEF_SPEC as for make)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=$ROOT/target/c-tests
mkdir -p "$OUT"
export KSEF_SPEC=${KSEF_SPEC:-$ROOT/../shared/ksef-spec}
KSEF_SPEC=$(cd "$KSEF_SPEC" && pwd)
cargo build -q -p ksef-ffi -p ksef-cli
LIB=$ROOT/target/debug
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O0 -I"$ROOT/include" -I"$ROOT/ffi-c/tests/c")

# The simulator (KSeF + Fakturownia + NBP) on a free port, for the tests that talk to it.
SIM_LOG=$OUT/sim.out
"$LIB/ksef" sim --port 0 >"$SIM_LOG" 2>&1 &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -s "$SIM_LOG" ] && break
  sleep 0.1
done
export KSEF_SIM_URL
KSEF_SIM_URL=$(head -1 "$SIM_LOG")
case "$KSEF_SIM_URL" in http://*) ;; *) echo "simulator did not start: $(cat "$SIM_LOG")"; exit 1 ;; esac
export KSEF_TEST_DATA=$ROOT/ffi-c/tests/c/data
export KSEF_TMP=$OUT/tmp
rm -rf "$KSEF_TMP" && mkdir -p "$KSEF_TMP"

VALGRIND=(valgrind --quiet --error-exitcode=99 --leak-check=full
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
  --suppressions="$ROOT/ffi-c/tests/c/valgrind.supp")
if [ -n "${KSEF_NO_VALGRIND:-}" ]; then VALGRIND=(); fi

sources=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    if [ -e "$ROOT/examples/c/$t.c" ]; then sources+=("$ROOT/examples/c/$t.c")
    else sources+=("$ROOT/ffi-c/tests/c/$t.c"); fi
  done
else
  sources=("$ROOT"/ffi-c/tests/c/test_*.c "$ROOT"/examples/c/*.c)
fi
failed=0
for src in "${sources[@]}"; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  gcc "${CFLAGS[@]}" "$src" -o "$OUT/$name" -L"$LIB" -lksef_ffi -Wl,-rpath,"$LIB"
  echo "== $name"
  if ! "${VALGRIND[@]}" "$OUT/$name"; then
    echo "FAILED: $name"
    failed=1
  fi
done
exit $failed
