// The size budget of the release client: everything in dist/ (wasm, js,
// css, html, icon), gzip -9 as a server would send it (the budget), and
// brotli 11 as roster-server sends it (shown beside). The .br/.gz forms
// `roster-server precompress` writes are not counted. Prints the
// breakdown, then one result line; exits 1 above the budget.
//
//   node scripts/dist-size.mjs [--dist DIR] [--budget-kb N]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dist = option('--dist', path.join(ROOT, 'dist'));
// The budget is a ratchet: it goes down whenever the bundle shrinks, and up
// only in a commit that adds a feature, by that feature's own bytes (the
// commit says how many). Issue 9's goal is 60 KB: see BENCHMARKS.md for why
// this stack cannot reach it. Settings, themes and typed problems: +2.6 KB;
// the embed's height reports: +0.8 KB; adds kept across reloads: +2.5 KB;
// the error view: +2.7 KB; pausing live updates: +2.6 KB; mount() and
// <roster-users>: +5.4 KB; the filter ("N of M") and the "N new" button:
// +5.9 KB; public/embed-example.html: +2.0 KB; the retry window widened by
// the server's viewer count (issue 12): +0.1 KB (148,486 bytes, 6 over 145);
// one layout in every connection state, so that the Add button never moves
// (issue 13's chaos test): +67 bytes (148,616); the restructuring of issue
// 21: -0.3 KB (148,297: strum's derived names cost nothing, the problem
// kinds' table was bytes); tokens, sessions, refreshes, the read-only view
// and removes through the outbox (issue 22): +8.0 KB (156,572); the socket
// opened by index.html before the module loads, and its adoption (issue
// 23, three round trips off a cold load): +1.8 KB (158,416); counts grouped
// by Intl.NumberFormat, the count as <data value>, a mounted Roster's own
// background and its region landmark (issue 24): +136 bytes (158,552;
// Intl's bindings alone +219, measured by building with plain digits;
// choosing <main> or <section> with into_any() had cost +4.7 KB, so the
// page wraps the one <section> in its <main> instead); the engine on the
// monotonic clock (performance.timeOrigin + now(): web-sys's Performance
// bindings), token lifetimes from the server's clock and storage_failed
// kept and retried (issue 27, clock jumps and a full disk): +282 bytes
// (158,834); named lists (issue 28: the `list` setting and its grammar,
// the list's socket URL, the two problems 4404 and 4410, the name beside
// the title and in the region's name): +2,203 bytes (161,037; the view
// alone +0.3 KB, measured by building without it).
const budgetKb = Number(option('--budget-kb', '157.3'));

// Every file, subfolders included (wasm-bindgen's snippets/).
const brotli = (bytes) => zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const rows = fs.readdirSync(dist, { recursive: true }).sort()
  .filter((file) => fs.statSync(path.join(dist, file)).isFile() && !/\.(br|gz)$/.test(file))
  .map((file) => {
    const bytes = fs.readFileSync(path.join(dist, file));
    // As a server sends it: compressed only where that is smaller.
    const smaller = (n) => Math.min(n, bytes.length);
    return { file, raw: bytes.length, gzip: smaller(zlib.gzipSync(bytes, { level: 9 }).length), br: smaller(brotli(bytes)) };
  });
const kb = (n) => (n / 1024).toFixed(1).padStart(7);
for (const { file, raw, gzip, br } of rows) console.log(`${kb(raw)} KB raw ${kb(gzip)} KB gzip ${kb(br)} KB brotli  ${file}`);
const sum = (key) => rows.reduce((s, r) => s + r[key], 0);
const total = sum('gzip');
const fits = total <= budgetKb * 1024;
console.log(`${kb(sum('raw'))} KB raw ${kb(total)} KB gzip ${kb(sum('br'))} KB brotli  total (${total.toLocaleString('en')} bytes gzip); budget ${budgetKb} KB gzip: ${fits ? 'within' : 'OVER'}`);
// Counted by scripts/test.sh like Playwright's summary lines.
console.log(fits ? '  1 passed' : '  1 failed');
process.exit(fits ? 0 : 1);
