#!/usr/bin/env bash
# Runs every test layer, installing what they need first:
#   1. native:  the protocol crate and the server (unit, property and
#               integration tests against the real server on port 0);
#   2. browser: component tests in headless Chromium (wasm-bindgen-test);
#   3. e2e:     Playwright in headless Chromium against the real server.
# Ends with one line of totals: "N passed, N failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

"$ROSTER_ROOT/scripts/bootstrap.sh" --test
export PATH="$HOME/.cargo/bin:$PATH"
LOGS="$ROSTER_ROOT/target/test-logs"
mkdir -p "$LOGS"

# Sums cargo's "test result:" lines of one log: prints "passed failed".
cargo_counts() {
    awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
         END { print p + 0, f + 0 }' "$1"
}

step "1/3 native tests: roster-protocol, roster-server"
cargo test --locked -p roster-protocol -p roster-server 2>&1 | tee "$LOGS/native.log"
read -r NATIVE_PASSED NATIVE_FAILED < <(cargo_counts "$LOGS/native.log")

step "2/3 browser component tests (wasm-bindgen-test in headless Chromium)"
CHROMEDRIVER=/usr/bin/chromedriver \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    with_wasm_env "$ROSTER_ROOT/target/wasm-test" \
    cargo test --locked --target wasm32-unknown-unknown -p roster --test web 2>&1 | tee "$LOGS/browser.log"
read -r BROWSER_PASSED BROWSER_FAILED < <(cargo_counts "$LOGS/browser.log")

step "3/3 end-to-end tests (Playwright, headless Chromium, real server)"
build_release_client
# cargo test built the server's debug binary already.
cargo build --locked -p roster-server
export ROSTER_SERVER_BIN="$ROSTER_ROOT/target/debug/roster-server"
export ROSTER_DIST="$ROSTER_ROOT/dist"
(cd tests/e2e && npx playwright test) 2>&1 | tee "$LOGS/e2e.log"
E2E_PASSED=$(grep -Eo '^ *[0-9]+ passed' "$LOGS/e2e.log" | grep -Eo '[0-9]+' | tail -1 || true)
E2E_FAILED=$(grep -Eo '^ *[0-9]+ failed' "$LOGS/e2e.log" | grep -Eo '[0-9]+' | tail -1 || true)

step "Summary"
printf '  native   %4s passed\n  browser  %4s passed\n  e2e      %4s passed\n' \
    "$NATIVE_PASSED" "$BROWSER_PASSED" "${E2E_PASSED:-0}" >&2
echo "$((NATIVE_PASSED + BROWSER_PASSED + ${E2E_PASSED:-0})) passed, $((NATIVE_FAILED + BROWSER_FAILED + ${E2E_FAILED:-0})) failed"
