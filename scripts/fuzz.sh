#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/: the network decoders, the
# connection engine, the list model) with
# cargo-fuzz and libFuzzer, on the stable toolchain (RUSTC_BOOTSTRAP=1
# lets it take the sanitizer flag), starting from the committed corpora
# in fuzz/corpus/. New inputs go to target/fuzz-corpus/, so the repository
# is not changed; a crash is saved under fuzz/artifacts/ and fails the run.
#
#   scripts/fuzz.sh            30 s per target (the test command's short run)
#   scripts/fuzz.sh 3600       an hour per target (the long run)
#   scripts/fuzz.sh 60 seed    one target
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

SECONDS_PER_TARGET=${1:-30}
shift || true
tools_ready --fuzz
export RUSTC_BOOTSTRAP=1
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(v1_client v1_server seed ws_frames engine list)
# What each target tries, for its row in RELIABILITY.md.
declare -A TRIES=(
    [v1_client]="arbitrary bytes as v1 client messages; what decodes must encode back the same"
    [v1_server]="arbitrary bytes as v1 server messages; what decodes must encode back the same"
    [seed]="arbitrary bytes as seed list frames and commands; lists round-trip"
    [ws_frames]="arbitrary bytes, split into two reads, through the server's WebSocket framing"
    [engine]="the connection engine through arbitrary events and server frames, invariants checked after each"
    [list]="the client's list model through arbitrary snapshots, changes, filters and reads, against a naive model"
)
ROWS="${ROSTER_RELIABILITY_DIR:-$ROSTER_ROOT/target/reliability}"
mkdir -p "$ROWS"
step "Building the fuzz targets"
(cd fuzz && cargo fuzz build --release) || die "the fuzz targets did not build"
passed=0
failed=0
for target in "${TARGETS[@]}"; do
    step "Fuzzing $target for ${SECONDS_PER_TARGET} s"
    work="$ROSTER_ROOT/target/fuzz-corpus/$target"
    mkdir -p "$work"
    log="$ROSTER_ROOT/target/fuzz-$target.log"
    if (cd fuzz && cargo fuzz run --release "$target" "$work" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048) >"$log" 2>&1; then
        runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1 | grep -Eo '[0-9]+')
        note "$target: $runs runs in ${SECONDS_PER_TARGET} s, no crash"
        node -e 'const [file, test, tried, times, seconds] = process.argv.slice(1);
            require("fs").writeFileSync(file, JSON.stringify({ suite: "fuzz", test, tried, times: Number(times),
              held: `no panic, crash or failed check in ${seconds} s (libFuzzer, AddressSanitizer)` }));' \
            "$ROWS/fuzz--$target.json" "$target" "${TRIES[$target]}" "${runs:-0}" "$SECONDS_PER_TARGET"
        passed=$((passed + 1))
    else
        tail -40 "$log" >&2
        note "$target: FAILED (log: $log; the input is under fuzz/artifacts/$target/)"
        failed=$((failed + 1))
    fi
done
echo "  $passed passed"
echo "  $failed failed"
[ "$failed" -eq 0 ]
