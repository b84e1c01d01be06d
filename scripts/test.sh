#!/usr/bin/env bash
# Runs every test layer, installing what they need first:
#   1. native:  the protocol crate, the server (unit, property and
#               integration tests against the real server on port 0), the
#               load generator and the client's pure parts;
#   2. browser: component tests in headless Chromium (wasm-bindgen-test);
#   3. size:    builds the release client and checks dist/ against its
#               gzip budget (scripts/dist-size.mjs);
#   4. e2e:     Playwright in headless Chromium against the real server;
#   5. faults:  the fault scenarios (partitions, freezes, a lossy link, a
#               full disk) inside a network namespace, each checked by the
#               history checker (scripts/faults.sh); skipped, saying so,
#               where the machine cannot make a namespace;
#   6. fuzz:    every fuzz target (network decoders, engine, list model)
#               for 30 s (scripts/fuzz.sh).
# Every layer runs even when an earlier one fails; then one line of true
# totals, "N passed, N failed", and a non-zero exit if any layer failed
# (a layer that dies before reporting counts as one failure).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

tools_ready --test
LOGS="$ROSTER_ROOT/target/test-logs"
mkdir -p "$LOGS"

PASSED=0
FAILED=0
FAILED_LAYERS=()
SUMMARY=()

# Sums cargo's "test result:" lines of one log: prints "passed failed".
cargo_counts() {
    awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
         END { print p + 0, f + 0 }' "$1"
}

# The last "  N passed" / "  N failed" lines of Playwright's or dist-size's log.
plain_counts() {
    local passed failed
    passed=$(grep -Eo '^ *[0-9]+ passed' "$1" | grep -Eo '[0-9]+' | tail -1)
    failed=$(grep -Eo '^ *[0-9]+ failed' "$1" | grep -Eo '[0-9]+' | tail -1)
    echo "${passed:-0} ${failed:-0}"
}

# run_layer NAME COUNTER COMMAND...: runs one layer into its log, then adds
# its counts to the totals.
run_layer() {
    local name="$1" counter="$2"
    shift 2
    local log="$LOGS/$name.log"
    "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local passed failed
    read -r passed failed < <("$counter" "$log")
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    [ "$status" -eq 0 ] || FAILED_LAYERS+=("$name (exit $status, log: $log)")
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
    SUMMARY+=("$(printf '  %-8s %5s passed %4s failed' "$name" "$passed" "$failed")")
}

step "1/6 native tests: roster-protocol, roster-server, roster-loadgen, roster-link, the client's pure parts"
run_layer native cargo_counts cargo test --locked -p roster-protocol -p roster-server -p roster-loadgen -p roster-link -p roster

step "2/6 browser component tests (wasm-bindgen-test in headless Chromium)"
run_layer browser cargo_counts with_wasm_env "$ROSTER_ROOT/target/wasm-test" \
    env CHROMEDRIVER=/usr/bin/chromedriver \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test --locked --target wasm32-unknown-unknown -p roster --test web

step "3/6 release client and its size budget"
size_layer() {
    build_release_client && node scripts/dist-size.mjs
}
run_layer size plain_counts size_layer

step "4/6 end-to-end tests (Playwright, headless Chromium, real server)"
e2e_layer() {
    # cargo test built the server's debug binary already.
    cargo build --locked -p roster-server || return 1
    # As a deployment would (scripts/run.sh does the same): every server the
    # specs start then reads the compressed forms instead of compressing
    # the client itself with an unoptimised brotli.
    "$ROSTER_ROOT/target/debug/roster-server" precompress --dist "$ROSTER_ROOT/dist" || return 1
    run_playwright
}
run_layer e2e plain_counts e2e_layer

# The README's pictures, on request; a tool, so nothing here is counted.
if [ "${UPDATE_SCREENSHOTS:-}" = 1 ]; then
    step "Making the README's pictures (docs/*.png)"
    no_counts() { echo "0 0"; }
    run_layer screenshots no_counts run_playwright -c tools/playwright.config.js
fi

step "5/6 fault scenarios in a network namespace (scripts/faults.sh)"
faults_layer() {
    cargo build --locked -p roster-server -p roster-link || return 1
    "$ROSTER_ROOT/scripts/faults.sh"
}
run_layer faults plain_counts faults_layer

step "6/6 fuzzing the decoders, the engine and the list model, 30 s each (cargo-fuzz)"
run_layer fuzz plain_counts "$ROSTER_ROOT/scripts/fuzz.sh" 30

step "Summary"
printf '%s\n' "${SUMMARY[@]}" >&2
for layer in "${FAILED_LAYERS[@]}"; do
    note "failed: $layer"
done
echo "$PASSED passed, $FAILED failed"
[ ${#FAILED_LAYERS[@]} -eq 0 ]
