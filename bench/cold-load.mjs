// The cold-load benchmark: what a new visitor waits for on a real network.
// Chromium with an empty cache and the DevTools network presets (CDP
// Network.emulateNetworkConditions), from navigation to the first row and
// to the full count, and the bytes that crossed the network, for:
//   - Roster, served by the release roster-server as scripts/run.sh serves
//     it (its own compression, permessage-deflate);
//   - beside it in the same run, the same list as a React 19 +
//     react-window widget (bench/react-widget, built with esbuild) and as
//     the plain-JS page (bench/pages/list.html?windowed), both from a
//     static host that compresses (bench/static-host.mjs), speaking to the
//     same roster-server.
// Each row is the median of RUNS loads, taken in turn (Roster, React,
// plain JS, then again), each in a new browser context.
//
//   node bench/cold-load.mjs [--runs 3] [--json FILE]
//
// scripts/bench.sh builds the widget and runs this; its table goes into
// BENCHMARKS.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startStaticHost } from './static-host.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests/e2e/package.json'));
const { chromium } = require('@playwright/test');
const { freePort } = require('./support/server.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const RUNS = Number(option('--runs', '3'));
const JSON_OUT = option('--json', path.join(ROOT, 'bench/results/cold-load.json'));
const SERVER_BIN = process.env.ROSTER_SERVER_BIN || path.join(ROOT, 'target/release/roster-server');
const DIST = process.env.ROSTER_DIST || path.join(ROOT, 'dist');
const WIDGET = path.join(ROOT, 'bench/react-widget/dist');

/**
 * Chrome DevTools' presets (front_end/core/sdk/NetworkManager.ts): bits
 * per second × 0.9 as bytes, and the round trip × its factor as latency.
 */
const NETWORKS = {
  'Fast 4G': { downloadThroughput: (9e6 / 8) * 0.9, uploadThroughput: (1.5e6 / 8) * 0.9, latency: 60 * 2.75 },
  'Slow 4G': { downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9, latency: 150 * 3.75 },
};
const CASES = [
  ['Fast 4G', 1_000],
  ['Slow 4G', 1_000],
  ['Fast 4G', 10_000],
  ['Slow 4G', 10_000],
];

/** The release roster-server with `users` demo users, letting `origin` in. */
async function startRoster(users, origin) {
  const port = await freePort();
  const child = spawn(SERVER_BIN, [
    '--addr', `127.0.0.1:${port}`, '--dist', DIST, '--db', ':memory:',
    '--demo-users', String(users), '--allowed-origin', origin,
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`roster-server exited:\n${log}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`roster-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    ws: `ws://127.0.0.1:${port}/api/v1/users/ws`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * Installed before any page script: the moments (ms since navigation
 * started) of the first animation frame with a row in the list, and with
 * the full count shown.
 */
function harness(expected) {
  const marks = (window.__coldLoad = {});
  const digits = (text) => (text ?? '').replace(/\D/g, '');
  const check = () => {
    if (marks.firstRow === undefined && document.querySelector('[data-testid=user-row]')) {
      marks.firstRow = null;
      requestAnimationFrame(() => (marks.firstRow = performance.now()));
    }
    const count = document.querySelector('[data-testid=user-count]');
    if (marks.fullCount === undefined && count && digits(count.textContent) === String(expected)) {
      marks.fullCount = null;
      requestAnimationFrame(() => (marks.fullCount = performance.now()));
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
}

/** One cold load of `url` on `network`: its marks and bytes. */
async function coldLoad(browser, url, network, users) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...NETWORKS[network] });
    let httpBytes = 0;
    let requests = 0;
    let extensions = '';
    let socketFrameBytes = 0;
    cdp.on('Network.loadingFinished', (event) => {
      httpBytes += event.encodedDataLength;
      requests += 1;
    });
    cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
      const headers = Object.fromEntries(Object.entries(event.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      extensions = headers['sec-websocket-extensions'] ?? '';
    });
    cdp.on('Network.webSocketFrameReceived', (event) => (socketFrameBytes += event.response.payloadData.length));
    await page.addInitScript(harness, users);
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__coldLoad?.fullCount && window.__coldLoad?.firstRow, null, { timeout: 120_000, polling: 100 });
    const marks = await page.evaluate(() => window.__coldLoad);
    return { ...marks, httpBytes, requests, extensions, socketFrameBytes };
  } finally {
    await context.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (!fs.existsSync(path.join(WIDGET, 'app.js'))) throw new Error(`${WIDGET} is not built: cd bench/react-widget && npm ci && node build.mjs`);
  // Both baselines link bench.css beside them: Roster's own styles.
  const css = fs.readdirSync(DIST).find((f) => f.endsWith('.css'));
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-cold-'));
  const react = path.join(site, 'react');
  const plain = path.join(site, 'plain');
  fs.cpSync(WIDGET, react, { recursive: true });
  fs.mkdirSync(plain);
  for (const file of ['list.html', 'list.js']) fs.copyFileSync(path.join(ROOT, 'bench/pages', file), path.join(plain, file));
  for (const dir of [react, plain]) fs.copyFileSync(path.join(DIST, css), path.join(dir, 'bench.css'));
  const statics = await startStaticHost({ '/react/': react, '/plain/': plain });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const results = { when: new Date().toISOString(), runs: RUNS, cases: [] };
  try {
    for (const [network, users] of CASES) {
      const roster = await startRoster(users, statics.origin);
      try {
        const urls = {
          roster: `${roster.url}/`,
          react: `${statics.origin}/react/?server=${encodeURIComponent(roster.ws)}`,
          plain: `${statics.origin}/plain/list.html?windowed&server=${encodeURIComponent(roster.ws)}`,
        };
        const loads = { roster: [], react: [], plain: [] };
        for (let run = 0; run < RUNS; run++) {
          for (const [kind, url] of Object.entries(urls)) {
            const load = await coldLoad(browser, url, network, users);
            loads[kind].push(load);
            console.error(`${network}, ${users} users, ${kind}: first row ${load.firstRow.toFixed(0)} ms, full count ${load.fullCount.toFixed(0)} ms, ${load.httpBytes} bytes over HTTP in ${load.requests} requests, socket ${load.extensions || 'uncompressed'}`);
          }
        }
        const summary = Object.fromEntries(Object.entries(loads).map(([kind, runs]) => [kind, {
          firstRow: median(runs.map((r) => r.firstRow)),
          fullCount: median(runs.map((r) => r.fullCount)),
          httpBytes: median(runs.map((r) => r.httpBytes)),
          requests: median(runs.map((r) => r.requests)),
          deflate: runs.every((r) => r.extensions.includes('permessage-deflate')),
          runs,
        }]));
        results.cases.push({ network, users, ...summary });
      } finally {
        await roster.stop();
      }
    }
  } finally {
    await browser.close();
    await statics.stop();
    fs.rmSync(site, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(markdown(results));
}

const ms = (v) => `${Math.round(v).toLocaleString('en')} ms`;
const kb = (v) => `${(v / 1024).toFixed(1)} KB`;

function markdown(r) {
  const lines = ['### Cold load on a throttled network: Roster against a React widget and a plain-JS page', ''];
  lines.push(`Measured by \`node bench/cold-load.mjs\` (part of \`scripts/bench.sh\`), ${r.when}: headless Chromium, a new context (empty cache) per load, CDP network emulation with the DevTools presets, medians of ${r.runs} loads taken in turn. Roster from the release \`roster-server\` (its own brotli and permessage-deflate); the React 19 + react-window widget (\`bench/react-widget\`, esbuild) and the plain-JS page (\`bench/pages/list.html?windowed\`) from a static host that compresses (\`bench/static-host.mjs\`: brotli 11, gzip 9), all three on the same \`roster-server\`'s socket. Times are from navigation to the first animation frame showing a row, and showing the full count. Bytes are HTTP bytes received (headers included; the socket's frames are not in it).`, '');
  lines.push('| network | users | figure | Roster | React widget | plain JS | Roster ÷ React (goal ≤ 1.0) |', '|---|---|---|---|---|---|---|');
  for (const c of r.cases) {
    const row = (figure, key, fmt) => lines.push(`| ${c.network} | ${c.users.toLocaleString('en')} | ${figure} | ${fmt(c.roster[key])} | ${fmt(c.react[key])} | ${fmt(c.plain[key])} | ${(c.roster[key] / c.react[key]).toFixed(2)} |`);
    row('first row', 'firstRow', ms);
    row('full count', 'fullCount', ms);
    row('HTTP bytes', 'httpBytes', kb);
    row('requests', 'requests', (v) => String(v));
  }
  const deflate = r.cases.every((c) => c.roster.deflate && c.react.deflate && c.plain.deflate);
  lines.push('', `Every page's socket agreed permessage-deflate: ${deflate ? 'yes' : 'no'}.`, '');
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
