#!/usr/bin/env bash
# Builds the floor page with the client's release settings (scripts/lib.sh:
# opt-level z, fat LTO, std rebuilt with immediate-abort panics and no
# locations) and prints its gzip and brotli sizes. About 2 minutes the first time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROSTER_ROOT/bench/floor"
ROSTER_WASM_RUSTFLAGS="$WASM_RELEASE_RUSTFLAGS" \
    with_wasm_env "$ROSTER_ROOT/target/floor" cargo build --release --target wasm32-unknown-unknown
out="$ROSTER_ROOT/target/floor-dist"
wasm="$ROSTER_ROOT/target/floor-$(wasm_mode)/wasm32-unknown-unknown/release/floor.wasm"
wasm-bindgen --target web --out-dir "$out" "$wasm" 2>/dev/null
# gzip -9 and brotli 11, as scripts/dist-size.mjs counts dist/; the last
# line is the total, which scripts/bench.sh reads.
node - "$out/floor_bg.wasm" "$out/floor.js" <<'JS'
const fs = require('node:fs');
const zlib = require('node:zlib');
let gzip = 0;
let br = 0;
for (const file of process.argv.slice(2)) {
  const bytes = fs.readFileSync(file);
  const g = zlib.gzipSync(bytes, { level: 9 }).length;
  const b = zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`${String(bytes.length).padStart(8)} bytes raw ${String(g).padStart(8)} bytes gzip ${String(b).padStart(8)} bytes brotli  ${file.split('/').pop()}`);
  gzip += g;
  br += b;
}
console.log(`floor total: ${gzip} bytes gzip, ${br} bytes brotli`);
JS
