// Writes the decode benchmark's table for BENCHMARKS.md from the one line
// of JSON benches/decode.rs printed (bench/results/decode.json).
//
//   node bench/decode-table.mjs bench/results/decode.json
import { readFileSync } from 'node:fs';

const d = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ratio = (ms) => (ms / d.client_ms).toFixed(2);
const rows = [
  ['serde_json in wasm: one typed pass for a snapshot that starts with its type, else outline + typed pass (the client)', d.client_ms],
  ['serde_json::Value, then the tagged enum (before issue 9)', d.value_probe_ms],
  ['JSON.parse, then every field handed to wasm', d.json_parse_ms],
];
console.log(`Frame: ${(d.bytes / 1e6).toFixed(1)} MB. Measured by benches/decode.rs in the shipped wasm-release profile.`);
console.log('');
console.log('| path | ms | ratio to the client path |');
console.log('|---|---|---|');
for (const [path, ms] of rows) console.log(`| ${path} | ${ms} | ${ratio(ms)} |`);
