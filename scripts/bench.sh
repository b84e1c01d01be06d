#!/usr/bin/env bash
# Builds the release client and server, runs the benchmarks and writes
# BENCHMARKS.md and bench/results/*.json. Separate from the tests: it takes
# about 20 minutes here (more on the first run, which builds a benchmark
# copy of the client), and its figures depend on the machine.
#
#   scripts/bench.sh            everything (1,000, 10,000 and 100,000 users)
#   scripts/bench.sh --quick    fewer runs and sizes, for trying changes out
#   scripts/bench.sh --report  only writes BENCHMARKS.md again from the last
#                              run's figures (after editing bench/analysis.md)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

OUT="$ROSTER_ROOT/target/bench"
mkdir -p "$OUT" bench/results
if [ "${1:-}" != --report ]; then
tools_ready --test

step "Building the release client, server and load generator"
build_release_client
cargo build --release --locked -p roster-server -p roster-loadgen
# As scripts/run.sh serves it: the client's compressed forms made once.
target/release/roster-server precompress --dist dist

step "Decode paths for a 100,000-user snapshot (wasm, headless Chromium)"
# The shipped profile (opt-level z), so the figures are the client's own.
with_wasm_env "$ROSTER_ROOT/target/wasm-bench" \
    env CHROMEDRIVER=/usr/bin/chromedriver \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test --locked --profile wasm-release --target wasm32-unknown-unknown -p roster --bench decode \
    -- --nocapture 2>&1 | tee "$OUT/decode.log"
DECODE=$(grep -o 'DECODE_BENCH {.*}' "$OUT/decode.log" | tail -1 | cut -d' ' -f2-)
[ -n "$DECODE" ] || die "the decode benchmark printed no result (see $OUT/decode.log)"
echo "$DECODE" >bench/results/decode.json

step "Client: Roster against plain-JS pages in headless Chromium"
node bench/client.mjs "$@" >"$OUT/client.md"
node scripts/dist-size.mjs --budget-kb 100000 | sed '$d' >"$OUT/size.txt"

step "The floor: Leptos, gloo-net and serde_json with nothing of Roster's (bench/floor)"
bench/floor/size.sh | tee "$OUT/floor.txt"

step "Cold load on Fast 4G and Slow 4G: Roster, a React widget, a plain-JS page"
(cd bench/react-widget && npm ci --no-audit --no-fund && node build.mjs)
node bench/cold-load.mjs >bench/results/cold-load.md

step "Lighthouse (mobile preset): Roster's page and the React widget"
# Exits 1 if Roster's accessibility, best practices or SEO is below 100.
(cd bench/lighthouse && npm ci --no-audit --no-fund >&2 && node run.mjs) >bench/results/lighthouse.md

step "Server: add and delivery latency (SQLite, Redis; one and two instances)"
cargo bench --locked -p roster-server --bench add_latency -- 2000 | tee bench/results/server.txt

# The previous campaign's server, for the figures that must not move
# (connect storm and fan-out at 10,000 on one list): built once from the
# commit in bench/previous-commit, in a target directory of its own.
PREVIOUS_COMMIT=$(cat bench/previous-commit)
PREVIOUS_DIR="$ROSTER_ROOT/target/bench-previous"
PREVIOUS_BIN="$PREVIOUS_DIR/roster-server-$PREVIOUS_COMMIT"
if [ ! -x "$PREVIOUS_BIN" ] && git cat-file -e "$PREVIOUS_COMMIT^{commit}" 2>/dev/null; then
    step "Building the previous campaign's server (${PREVIOUS_COMMIT:0:7})"
    rm -rf "$PREVIOUS_DIR/src" && mkdir -p "$PREVIOUS_DIR/src"
    git archive "$PREVIOUS_COMMIT" | tar -x -C "$PREVIOUS_DIR/src"
    CARGO_TARGET_DIR="$PREVIOUS_DIR/target" \
        cargo build --release --locked -p roster-server --manifest-path "$PREVIOUS_DIR/src/Cargo.toml"
    cp "$PREVIOUS_DIR/target/release/roster-server" "$PREVIOUS_BIN"
fi
if [ -x "$PREVIOUS_BIN" ]; then
    export ROSTER_PREVIOUS_BIN="$PREVIOUS_BIN" ROSTER_PREVIOUS_COMMIT="${PREVIOUS_COMMIT:0:7}"
else
    note "no previous build (a shallow clone lacks ${PREVIOUS_COMMIT:0:7}): its comparison is left out"
fi

step "Server at 1,000 and 10,000 connections, against Node ws and the previous build; 1,000 lists (crates/loadgen)"
# Each side holds a socket per client: raise the open-file limit for this
# script only, as far as the hard limit allows.
ulimit -n "$(ulimit -Hn)" || true
node bench/server.mjs >bench/results/server-scale.md
fi

step "Writing BENCHMARKS.md"
{
    echo "# Benchmarks"
    echo
    echo "Written by \`scripts/bench.sh\`; do not edit by hand (the analysis below"
    echo "comes from \`bench/analysis.md\`). Raw figures: \`bench/results/\`."
    echo
    cat "$OUT/client.md"
    echo "### Decoding a 100,000-user snapshot in wasm (median of 5, ms)"
    echo
    node bench/decode-table.mjs bench/results/decode.json
    echo
    echo "## Server"
    echo
    echo "Measured by \`cargo bench -p roster-server --bench add_latency -- 2000\` (part of"
    echo "\`scripts/bench.sh\`): real servers in one process on loopback, each Redis a real"
    echo "\`redis-server\` with AOF. The SQLite rows are the single-instance baseline of the same run."
    echo
    echo '```'
    cat bench/results/server.txt
    echo '```'
    echo
    [ -f bench/results/server-scale.md ] && cat bench/results/server-scale.md && echo
    [ -f bench/results/cold-load.md ] && cat bench/results/cold-load.md && echo
    [ -f bench/results/lighthouse.md ] && cat bench/results/lighthouse.md && echo
    echo "### dist/ (release client), gzip -9 and brotli 11, against the floor"
    echo
    echo '```'
    sed 's/; budget.*//' "$OUT/size.txt"
    echo
    cat "$OUT/floor.txt"
    echo '```'
    echo
    node - "$OUT/size.txt" "$OUT/floor.txt" <<'JS'
const fs = require('node:fs');
const [size, floor] = process.argv.slice(2).map((f) => fs.readFileSync(f, 'utf8'));
const ours = size.match(/([\d.]+) KB gzip +([\d.]+) KB brotli +total/);
const base = floor.match(/floor total: (\d+) bytes gzip, (\d+) bytes brotli/);
const kb = (n) => (n / 1024).toFixed(1);
const [gzip, br] = [Number(ours[1]) * 1024, Number(ours[2]) * 1024];
console.log(`Roster's own bytes over the floor (Leptos + gloo-net + serde_json, \`bench/floor\`, the same build settings): **${kb(gzip - base[1])} KB gzip, ${kb(br - base[2])} KB brotli** (dist/ ${kb(gzip)} KB gzip, ${kb(br)} KB brotli; the floor ${kb(base[1])} KB gzip, ${kb(base[2])} KB brotli).`);
JS
    echo
    cat bench/analysis.md
} >BENCHMARKS.md
step "Wrote BENCHMARKS.md"
