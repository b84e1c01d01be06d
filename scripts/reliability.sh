#!/usr/bin/env bash
# Runs the reliability suites and writes RELIABILITY.md from what held:
# fuzzing, the hostile client and server, chaos with kill -9, and the
# soaks, and the fault scenarios (partitions, freezes, a lossy link, a full
# disk, clock jumps). The short form is what the test command runs (about
# 15 minutes here); --long runs each for longer (about an hour and a half).
#
#   scripts/reliability.sh          the short form
#   scripts/reliability.sh --long   fuzz 5 min per target, the server soak
#                                   10 min, 10,000 client reconnects,
#                                   200 kills per chaos test, a 60 s Redis
#                                   partition, a 5-minute lossy link
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

MODE=short
FUZZ_SECONDS=30
export ROSTER_SOAK_SECONDS=20 ROSTER_SOAK_RECONNECTS=1000 ROSTER_CHAOS_KILLS=20
if [ "${1:-}" = --long ]; then
    MODE=long
    FUZZ_SECONDS=300
    export ROSTER_SOAK_SECONDS=600 ROSTER_SOAK_RECONNECTS=10000 ROSTER_CHAOS_KILLS=200
    export ROSTER_FAULT_REDIS_PARTITION_S=60 ROSTER_FAULT_LOSSY_S=300
fi
tools_ready --test
export ROSTER_RELIABILITY_DIR="$ROSTER_ROOT/target/reliability"
rm -rf "$ROSTER_RELIABILITY_DIR"
started=$(date +%s)
status=0

step "Building the client and the server"
build_release_client || die "the client did not build"
cargo build --locked -p roster-server -p roster-link || die "the server did not build"

step "Fuzzing, $FUZZ_SECONDS s per target"
"$ROSTER_ROOT/scripts/fuzz.sh" "$FUZZ_SECONDS" || status=1

step "The hostile client and the server soak"
cargo test --locked -p roster-server --test api -- hostile:: soak:: || status=1

step "The hostile server, chaos and the client soak, in Chromium"
run_playwright specs/hostile-server.spec.js specs/chaos.spec.js specs/soak.spec.js \
    specs/clock-jumps.spec.js specs/history-checker.spec.js || status=1

step "The fault scenarios, in a network namespace"
"$ROSTER_ROOT/scripts/faults.sh" | tee "$ROSTER_RELIABILITY_DIR.faults.log" || status=1
grep -q "skipped all" "$ROSTER_RELIABILITY_DIR.faults.log" && status=1

step "Writing RELIABILITY.md"
node scripts/reliability-report.mjs "$MODE" "$(( $(date +%s) - started ))" || status=1
exit "$status"
