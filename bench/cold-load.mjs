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
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { option, startRoster, startBaselines } from './sites.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests/e2e/package.json'));
const { chromium } = require('@playwright/test');

const RUNS = Number(option('--runs', '3'));
const JSON_OUT = option('--json', path.join(ROOT, 'bench/results/cold-load.json'));

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
  const statics = await startBaselines();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const results = { when: new Date().toISOString(), runs: RUNS, cases: [] };
  try {
    for (const [network, users] of CASES) {
      const roster = await startRoster(users, { args: ['--allowed-origin', statics.origin] });
      try {
        const urls = {
          roster: `${roster.url}/`,
          react: statics.reactUrl(roster.ws),
          plain: statics.plainUrl(roster.ws),
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
