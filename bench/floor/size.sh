#!/usr/bin/env bash
# Builds the floor page with the client's release settings (scripts/lib.sh:
# opt-level z, fat LTO, std rebuilt with immediate-abort panics and no
# locations) and prints its gzip sizes. About 2 minutes the first time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROSTER_ROOT/bench/floor"
ROSTER_WASM_RUSTFLAGS="$WASM_RELEASE_RUSTFLAGS" \
    with_wasm_env "$ROSTER_ROOT/target/floor" cargo build --release --target wasm32-unknown-unknown
out="$ROSTER_ROOT/target/floor-dist"
wasm="$ROSTER_ROOT/target/floor-$(wasm_mode)/wasm32-unknown-unknown/release/floor.wasm"
wasm-bindgen --target web --out-dir "$out" "$wasm" 2>/dev/null
for file in "$out/floor_bg.wasm" "$out/floor.js"; do
    printf '%8d bytes raw %8d bytes gzip  %s\n' "$(wc -c <"$file")" "$(gzip -9c "$file" | wc -c)" "$(basename "$file")"
done
