// The client benchmark: Roster's page against two plain-JavaScript pages
// that render the same v1 snapshot with the same row markup (one with every
// row in the DOM, one windowed exactly as Roster is), side by side in one
// run, in headless Chromium, against the real release server on loopback.
//
//   node bench/client.mjs [--sizes 1000,10000,100000] [--json FILE] [--quick]
//
// scripts/bench.sh builds everything and runs it; it writes the figures to
// BENCHMARKS.md (its client section) and bench/results/client.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DIST, option, startRoster } from './sites.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests/e2e/package.json'));
const { chromium } = require('@playwright/test');

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const SIZES = option('--sizes', QUICK ? '1000,10000' : '1000,10000,100000').split(',').map(Number);
const JSON_OUT = option('--json', path.join(ROOT, 'bench/results/client.json'));
const SNAPSHOT_RUNS = QUICK ? 2 : 5;
const CHANGE_RUNS = QUICK ? 3 : 7;
const SUSTAINED = { users: 10_000, rate: 1_000, seconds: QUICK ? 3 : 10 };

const PAGES = {
  roster: { path: '/', label: 'Roster' },
  windowed: { path: '/list.html?windowed', label: 'plain JS, windowed' },
  plain: { path: '/list.html', label: 'plain JS, every row' },
};

// --- the server -----------------------------------------------------------------

/** A release roster-server with `users` demo users, in memory, serving `dist`. */
const startServer = (dist, users) => startRoster(users, { dist, args: ['--max-frame-bytes', String(1 << 20)] });

/** Roster's dist/ plus the baseline pages, served from one origin. */
function prepareSite() {
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-'));
  fs.cpSync(DIST, site, { recursive: true });
  for (const file of fs.readdirSync(path.join(ROOT, 'bench/pages'))) {
    fs.copyFileSync(path.join(ROOT, 'bench/pages', file), path.join(site, file));
  }
  const css = fs.readdirSync(DIST).find((f) => f.endsWith('.css'));
  fs.copyFileSync(path.join(DIST, css), path.join(site, 'bench.css'));
  return site;
}

// --- in the page ------------------------------------------------------------------
/**
 * Installed before any page script: stamps every text frame as it arrives
 * (before the page's own handler runs), and watches, once per animation
 * frame, for the list to show what the benchmark waits for.
 */
function harness() {
  const bench = (window.__bench = { frames: [], frameTimes: [] });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        const at = performance.now();
        const head = event.data.slice(0, 20);
        const kind = head.startsWith('{"type":"snapshot"') ? 'snapshot' : head.startsWith('{"type":"change"') ? 'change' : 'other';
        const id = kind === 'change' ? JSON.parse(event.data).user.id : null;
        bench.frames.push({ kind, at, id });
      });
    }
  };
  /** The time of the first animation frame in which `done()` holds. */
  bench.painted = (done) => new Promise((resolve) => {
    const check = () => (done() ? resolve(performance.now()) : requestAnimationFrame(check));
    requestAnimationFrame(check);
  });
  // Roster's count is a <data> element whose value is the number (its
  // text is grouped for the reader); the plain pages' is the text.
  bench.count = () => {
    const element = document.querySelector('[data-testid=user-count]');
    return element?.getAttribute('value') ?? element?.textContent;
  };
  bench.row = (id) => document.querySelector(`[data-testid=user-row][data-user-id="${id}"]`);
  bench.scroller = () => document.querySelector('[data-testid=user-list-scroller]');
  /** Records animation frame times, to count dropped frames. */
  bench.recordFrames = () => {
    bench.frameTimes = [];
    bench.recording = true;
    const tick = (t) => {
      if (!bench.recording) return;
      bench.frameTimes.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  bench.nowEpoch = () => performance.timeOrigin + performance.now();
  /**
   * Records when the count's text changes, so a run can tell when the page
   * first showed a count, however late the benchmark asks.
   */
  bench.watchCount = () => {
    bench.counts = [];
    const element = document.querySelector('[data-testid=user-count]');
    new MutationObserver(() => bench.counts.push([performance.now(), bench.count()]))
      .observe(element, { subtree: true, childList: true, characterData: true, attributes: true });
  };
  /** When the page first showed `count`, or when it does. */
  bench.shown = async (count) => {
    const seen = bench.counts.find(([, text]) => text === count);
    if (seen) return seen[0];
    await bench.painted(() => bench.count() === count);
    return bench.counts.find(([, text]) => text === count)?.[0] ?? performance.now();
  };
}

async function openPage(browser, origin, kind) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(harness);
  // Roster is told its server, which skips the socket index.html opens
  // before the module loads: with it the snapshot often arrives while the
  // wasm still loads and waits for it, and "arrival → painted" would time
  // the download instead of the client (bench/cold-load.mjs times that).
  const ws = `${origin.replace(/^http/, 'ws')}/api/v1/users/ws`;
  const url = kind === 'roster' ? `${origin}/?server=${encodeURIComponent(ws)}` : `${origin}${PAGES[kind].path}`;
  await page.goto(url);
  return { page, context };
}

/** Snapshot frame arrival → the first frame showing the count and rows. */
async function snapshotToPainted(browser, origin, kind, users) {
  const { page, context } = await openPage(browser, origin, kind);
  const result = await page.evaluate(async (users) => {
    const bench = window.__bench;
    const paintedAt = await bench.painted(() => bench.count() === String(users) && bench.row(1));
    const snapshot = bench.frames.find((f) => f.kind === 'snapshot');
    return { ms: paintedAt - snapshot.at, rows: document.querySelectorAll('[data-testid=user-row]').length, nodes: document.getElementsByTagName('*').length };
  }, users);
  return { page, context, ...result };
}

/** One change arriving → its row in the DOM, scrolled to the end of the list. */
async function changeToPainted(page, server) {
  await page.evaluate(async () => {
    const scroller = window.__bench.scroller();
    scroller.scrollTop = scroller.scrollHeight;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  const seen = await page.evaluate(() => window.__bench.frames.length);
  const [ms] = await Promise.all([
    page.evaluate(async (seen) => {
      const bench = window.__bench;
      while (bench.frames.length <= seen || !bench.frames.slice(seen).some((f) => f.kind === 'change')) {
        await new Promise((r) => setTimeout(r, 1));
      }
      const change = bench.frames.slice(seen).find((f) => f.kind === 'change');
      const paintedAt = await bench.painted(() => bench.row(change.id));
      return paintedAt - change.at;
    }, seen),
    server.add(),
  ]);
  return ms;
}

/**
 * What a reader types into the filter, one input event per keystroke:
 * narrowing, widening back to everyone, and narrowing to a single user.
 */
const KEYSTROKES = ['a', 'ad', 'ada', 'ada ', 'ada l', 'ada', '', '4', '42', '424', '4242', '4242@', '.4242@', ''];

/**
 * Each keystroke → the first frame after the page has handled it (its
 * input handler and whatever it queued), with the rows then checked
 * against the filter, so a page that skipped the work would fail here.
 */
async function filterToPainted(page) {
  return page.evaluate(async (keystrokes) => {
    const bench = window.__bench;
    const box = document.querySelector('[data-testid=filter]');
    const firstShown = () => {
      const row = document.querySelector('[data-testid=user-row]');
      return row ? `${row.querySelector('.user-name').textContent} ${row.querySelector('.user-email').textContent}`.toLowerCase() : null;
    };
    const times = [];
    for (const text of keystrokes) {
      await bench.painted(() => true);
      const started = performance.now();
      box.value = text;
      box.dispatchEvent(new Event('input', { bubbles: true }));
      const query = text.trim().toLowerCase();
      const at = await bench.painted(() => (firstShown() ?? '').includes(query));
      times.push(at - started);
    }
    return times;
  }, KEYSTROKES);
}

/** `rate` adds per second for `seconds` into the page's list. */
async function sustained(page, server, client) {
  await client.send('Performance.enable');
  const busy = async () => (await client.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  await page.evaluate(() => {
    window.__bench.recordFrames();
    window.__bench.watchCount();
  });
  const busyBefore = await busy();
  const total = SUSTAINED.rate * SUSTAINED.seconds;
  const started = Date.now();
  const pending = [];
  let lastSent = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / SUSTAINED.rate;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    lastSent = Date.now();
    pending.push(server.add());
  }
  await Promise.all(pending);
  const expected = await server.users();
  const shown = await page.evaluate(async (expected) => {
    const bench = window.__bench;
    const paintedAt = await bench.shown(String(expected));
    const changes = bench.frames.filter((f) => f.kind === 'change');
    const lastArrival = changes[changes.length - 1].at;
    return { paintedEpoch: performance.timeOrigin + paintedAt, arrivalEpoch: performance.timeOrigin + lastArrival, changes: changes.length };
  }, expected);
  const busyAfter = await busy();
  const frames = await page.evaluate(() => {
    const bench = window.__bench;
    bench.recording = false;
    return bench.frameTimes;
  });
  const wallMs = Date.now() - started;
  let dropped = 0;
  for (let i = 1; i < frames.length; i++) dropped += Math.max(0, Math.round((frames[i] - frames[i - 1]) / (1000 / 60)) - 1);
  return {
    adds: total,
    sendSeconds: (lastSent - started) / 1000,
    changes: shown.changes,
    // Last add sent → the final count in the page: the whole way, through
    // the server.
    lagMs: shown.paintedEpoch - lastSent,
    // Of that, last change frame arrival → the final count in the page:
    // the page's own backlog.
    backlogMs: shown.paintedEpoch - shown.arrivalEpoch,
    droppedFrames: dropped,
    frames: frames.length,
    busyPercent: (100 * (busyAfter - busyBefore) * 1000) / wallMs,
  };
}

// --- transfer sizes ------------------------------------------------------------------
function sizesOf(files) {
  let raw = 0, gzip = 0, brotli = 0;
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    raw += bytes.length;
    gzip += zlib.gzipSync(bytes, { level: 9 }).length;
    brotli += zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return { raw, gzip, brotli };
}

function transferSizes() {
  // What the page loads: not the compressed forms beside each file
  // (roster-server precompress) nor the embedding example.
  const roster = fs.readdirSync(DIST, { recursive: true })
    .filter((f) => !/\.(br|gz)$/.test(f) && path.basename(f) !== 'embed-example.html')
    .map((f) => path.join(DIST, f))
    .filter((f) => fs.statSync(f).isFile());
  const css = roster.find((f) => f.endsWith('.css'));
  const baseline = sizesOf([path.join(ROOT, 'bench/pages/list.html'), path.join(ROOT, 'bench/pages/list.js'), css]);
  return { roster: sizesOf(roster), windowed: baseline, plain: baseline };
}

// --- the run --------------------------------------------------------------------------
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const site = prepareSite();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const results = { machine: machine(), when: new Date().toISOString(), snapshot: {}, change: {}, filter: {}, sustained: {}, transfer: transferSizes() };
  try {
    for (const users of SIZES) {
      results.snapshot[users] = {};
      results.change[users] = {};
      for (const kind of Object.keys(PAGES)) {
        const server = await startServer(site, users);
        try {
          const times = [];
          let shape;
          for (let run = 0; run < SNAPSHOT_RUNS; run++) {
            const measured = await snapshotToPainted(browser, server.origin, kind, users);
            times.push(measured.ms);
            shape = { rows: measured.rows, nodes: measured.nodes };
            if (run < SNAPSHOT_RUNS - 1 || users < 10_000) {
              await measured.context.close();
              continue;
            }
            // The last page stays open for the change measurements.
            const changes = [];
            for (let i = 0; i < CHANGE_RUNS; i++) changes.push(await changeToPainted(measured.page, server));
            results.change[users][kind] = { medianMs: median(changes), runs: changes };
            if (users >= 100_000 && kind !== 'plain') {
              await measured.page.evaluate(() => { window.__bench.scroller().scrollTop = 0; });
              const keys = await filterToPainted(measured.page);
              results.filter[users] ??= {};
              results.filter[users][kind] = { medianMs: median(keys), maxMs: Math.max(...keys), runs: keys };
              console.error(`${users} users, ${kind}: filter keystroke → painted ${median(keys).toFixed(1)} ms, max ${Math.max(...keys).toFixed(1)} ms`);
            }
            await measured.context.close();
          }
          results.snapshot[users][kind] = { medianMs: median(times), runs: times, ...shape };
          console.error(`${users} users, ${kind}: snapshot → painted ${median(times).toFixed(1)} ms ${JSON.stringify(shape)}`);
        } finally {
          await server.stop();
        }
      }
    }
    for (const kind of Object.keys(PAGES)) {
      const server = await startServer(site, SUSTAINED.users);
      try {
        const { page, context } = await openPage(browser, server.origin, kind);
        await page.evaluate(async (users) => {
          const bench = window.__bench;
          await bench.painted(() => bench.count() === String(users));
        }, SUSTAINED.users);
        const client = await context.newCDPSession(page);
        results.sustained[kind] = await sustained(page, server, client);
        console.error(`sustained, ${kind}: ${JSON.stringify(results.sustained[kind])}`);
        await context.close();
      } finally {
        await server.stop();
      }
    }
  } finally {
    await browser.close();
    fs.rmSync(site, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(markdown(results));
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

// --- the report --------------------------------------------------------------------------
const ms = (value) => (value === undefined ? '–' : `${value.toFixed(1)} ms`);
const ratio = (value, base) => (value === undefined || !base ? '–' : `${(value / base).toFixed(2)}`);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

function markdown(r) {
  const lines = [];
  lines.push('## Client', '');
  lines.push(`Measured by \`scripts/bench.sh\` (\`node bench/client.mjs\`) on ${r.machine}, ${r.when}.`);
  lines.push('Headless Chromium against the release `roster-server` on loopback (`--db :memory:`, `--demo-users N`).');
  lines.push('Baselines in the same run: `bench/pages/list.html?windowed` (plain JS, windowed exactly as Roster) and `bench/pages/list.html` (plain JS, every row in the DOM), same v1 protocol and row markup. A ratio below 1 means Roster is faster.', '');
  lines.push('### Snapshot frame arrival → list painted (median)', '');
  lines.push('| users | Roster | windowed JS | ratio | every-row JS | ratio | rows in DOM (Roster / every-row) |', '|---|---|---|---|---|---|---|');
  for (const [users, s] of Object.entries(r.snapshot)) {
    lines.push(`| ${Number(users).toLocaleString('en')} | ${ms(s.roster?.medianMs)} | ${ms(s.windowed?.medianMs)} | ${ratio(s.roster?.medianMs, s.windowed?.medianMs)} | ${ms(s.plain?.medianMs)} | ${ratio(s.roster?.medianMs, s.plain?.medianMs)} | ${s.roster?.rows} / ${s.plain?.rows} |`);
  }
  lines.push('', '### One change arriving → its row painted (median)', '');
  lines.push('| users | Roster | windowed JS | ratio | every-row JS | ratio |', '|---|---|---|---|---|---|');
  for (const [users, c] of Object.entries(r.change)) {
    if (!c.roster) continue;
    lines.push(`| ${Number(users).toLocaleString('en')} | ${ms(c.roster?.medianMs)} | ${ms(c.windowed?.medianMs)} | ${ratio(c.roster?.medianMs, c.windowed?.medianMs)} | ${ms(c.plain?.medianMs)} | ${ratio(c.roster?.medianMs, c.plain?.medianMs)} |`);
  }
  lines.push('', '### Filter: one keystroke → the next frame, with the filtered rows (median and slowest of the keystrokes)', '');
  lines.push(`Keystrokes, one input event each: ${KEYSTROKES.map((k) => `"${k}"`).join(', ')}. The windowed JS page filters as a plain page would (lower-case every name and email, search, keep the matches in an array); Roster narrows its filter as the reader types (only the users still shown are checked again).`, '');
  lines.push('| users | Roster median | windowed JS median | ratio | Roster slowest | windowed JS slowest | ratio |', '|---|---|---|---|---|---|---|');
  for (const [users, f] of Object.entries(r.filter ?? {})) {
    lines.push(`| ${Number(users).toLocaleString('en')} | ${ms(f.roster?.medianMs)} | ${ms(f.windowed?.medianMs)} | ${ratio(f.roster?.medianMs, f.windowed?.medianMs)} | ${ms(f.roster?.maxMs)} | ${ms(f.windowed?.maxMs)} | ${ratio(f.roster?.maxMs, f.windowed?.maxMs)} |`);
  }
  lines.push('', `### ${SUSTAINED.rate.toLocaleString('en')} adds per second for ${SUSTAINED.seconds} s into a ${SUSTAINED.users.toLocaleString('en')}-user list`, '');
  lines.push('The adds are HTTP POSTs from the benchmark process, paced at the rate, through the server to the page: on 2 cores the load generator, the server and Chromium share the CPU, so "sent → shown" includes the server\'s queue; "last frame → shown" is the page\'s own backlog. "Shown" is when the count in the page first read the final number (a MutationObserver on it), so it does not depend on when the benchmark asks.', '');
  lines.push('| page | dropped frames | main thread busy | last add sent → final count shown | last change frame → final count shown | ratio (frame → shown) |', '|---|---|---|---|---|---|');
  for (const [kind, s] of Object.entries(r.sustained)) {
    lines.push(`| ${PAGES[kind].label} | ${s.droppedFrames} of ${s.frames + s.droppedFrames} | ${s.busyPercent.toFixed(1)} % | ${ms(s.lagMs)} | ${ms(s.backlogMs)} | ${ratio(r.sustained.roster?.backlogMs, s.backlogMs)} |`);
  }
  lines.push('', '### Transfer size (everything the page loads)', '');
  lines.push('| page | raw | gzip | brotli | gzip ratio to Roster |', '|---|---|---|---|---|');
  for (const [kind, s] of Object.entries(r.transfer)) {
    lines.push(`| ${PAGES[kind].label} | ${kb(s.raw)} | ${kb(s.gzip)} | ${kb(s.brotli)} | ${ratio(r.transfer.roster.gzip, s.gzip)} |`);
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
