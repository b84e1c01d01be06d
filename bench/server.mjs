// The server benchmark: Roster's release server against the Node `ws`
// baseline (bench/node-server/server.js), each driven by the same native
// load generator (crates/loadgen) in the same run, on loopback.
//
//   node bench/server.mjs [--sizes 1000,10000] [--json FILE]
//   node bench/server.mjs --report [--json FILE]   the table again from FILE
//
// scripts/bench.sh builds everything, raises the open-file limit, runs it,
// and puts its table into BENCHMARKS.md.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './sites.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const SIZES = option('--sizes', '1000,10000').split(',').map(Number);
const JSON_OUT = option('--json', path.join(ROOT, 'bench/results/server.json'));
const LOADGEN = path.join(ROOT, 'target/release/roster-loadgen');
// The seed fan-out: this many seed clients of a list of this many users.
const SEED_CLIENTS = 1000;
const SEED_USERS = 10_000;
const ROSTER = path.join(ROOT, 'target/release/roster-server');

// The previous campaign's server (scripts/bench.sh builds it from the
// commit named in bench/previous-commit), for the figures that must not
// move: run side by side with this build's.
const PREVIOUS = process.env.ROSTER_PREVIOUS_BIN;

const SERVERS = {
  roster: {
    label: 'Roster',
    command: (port, demoUsers, extra = []) => [ROSTER, ['--addr', `127.0.0.1:${port}`, ...(extra.includes('--db') ? [] : ['--db', ':memory:']), '--dist', '/nonexistent',
      '--write-rate', '1000000', '--write-burst', '100000', '--max-connections', '30000', '--demo-users', String(demoUsers), ...extra]],
  },
  previous: {
    label: 'previous build',
    command: (port, demoUsers, extra = []) => [PREVIOUS, ['--addr', `127.0.0.1:${port}`, '--db', ':memory:', '--dist', '/nonexistent',
      '--write-rate', '1000000', '--write-burst', '100000', '--max-connections', '30000', '--demo-users', String(demoUsers), ...extra]],
  },
  node: {
    label: 'Node ws',
    command: (port, demoUsers) => [process.execPath, [path.join(ROOT, 'bench/node-server/server.js'), String(port), String(demoUsers)]],
  },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startServer(kind, port, demoUsers = 0, extra = []) {
  const [command, argv] = SERVERS[kind].command(port, demoUsers, extra);
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`${kind} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopServer(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Runs the load generator; `onReady` is called when it prints "ready". */
function loadgen(argv, onReady) {
  return new Promise((resolve, reject) => {
    const child = spawn(LOADGEN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (onReady && err.includes('ready')) {
        const ready = onReady;
        onReady = null;
        ready();
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen ${argv.join(' ')}: ${err}`))));
  });
}

async function measure(kind, clients) {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/api/v1/users/ws`;
  const results = {};
  const common = ['--url', url, '--clients', String(clients)];
  // Each scenario on a fresh server, so one does not pay for another.
  const fresh = async (run, demoUsers = 0) => {
    let server = await startServer(kind, port, demoUsers);
    try {
      return await run(server, async () => {
        await stopServer(server);
        server = await startServer(kind, port, demoUsers);
      });
    } finally {
      await stopServer(server);
    }
  };
  results.connect = await fresh(() => loadgen(['connect-storm', ...common]));
  results.idle = await fresh((server) => loadgen(['idle-memory', ...common, '--pid', String(server.pid)]));
  // 100 rounds, so the p99 is a percentile and not the slowest of a few.
  results.fanout = await fresh(() => loadgen(['fanout', ...common, '--rounds', '100']));
  // 500,000 deliveries a second offered at either size: more than either
  // server delivers on two cores, so the figure is each one's capacity.
  const rate = 500_000 / clients;
  results.sustained = await fresh(() => loadgen(['sustained', ...common, '--rate', String(rate), '--seconds', '5']));
  if (clients === SEED_CLIENTS) {
    // Seed clients get the whole list after every change: 10,000 users
    // make each frame about 0.8 MB, shared by every seed client.
    results.seed = await fresh((server) => loadgen(['fanout', ...common, '--rounds', '10', '--watchers', 'seed',
      '--pid', String(server.pid)]), SEED_USERS);
  }
  if (kind === 'roster') {
    // Clients that offer permessage-deflate, as every browser does.
    results.idle_deflate = await fresh((server) => loadgen(['idle-memory', ...common, '--deflate', '--pid', String(server.pid)]));
    results.fanout_deflate = await fresh(() => loadgen(['fanout', ...common, '--rounds', '100', '--deflate']));
    if (!results.idle_deflate.deflate) throw new Error('the server did not agree permessage-deflate');
  }
  for (const backoff of ['roster', 'fixed']) {
    results[`reconnect_${backoff}`] = await fresh((_, restart) => new Promise((resolve, reject) => {
      loadgen(['reconnect-storm', ...common, '--backoff', backoff], () => restart().catch(reject)).then(resolve, reject);
    }));
  }
  return results;
}

/** Pairs of runs, this build and the previous one in turn. */
const PREVIOUS_PAIRS = 3;

/**
 * The connect storm and the fan-out at `clients` on one list, this build
 * against the previous campaign's, `PREVIOUS_PAIRS` pairs with the order
 * swapped every pair, each run on a fresh server.
 */
async function againstPrevious(clients) {
  const run = async (kind, scenario) => {
    const port = await freePort();
    const server = await startServer(kind, port);
    try {
      const common = ['--url', `ws://127.0.0.1:${port}/api/v1/users/ws`, '--clients', String(clients)];
      const extra = scenario === 'fanout' ? ['--rounds', '100'] : [];
      return await loadgen([scenario, ...common, ...extra]);
    } finally {
      await stopServer(server);
    }
  };
  const pairs = { connect: [], fanout: [] };
  for (let i = 0; i < PREVIOUS_PAIRS; i++) {
    const order = i % 2 === 0 ? ['roster', 'previous'] : ['previous', 'roster'];
    for (const scenario of ['connect-storm', 'fanout']) {
      const got = {};
      for (const kind of order) got[kind] = await run(kind, scenario);
      if (scenario === 'connect-storm') {
        pairs.connect.push({ now: got.roster.all_in_step_ms, before: got.previous.all_in_step_ms });
      } else {
        pairs.fanout.push({ now: got.roster.all_delivered_ms.p99, before: got.previous.all_delivered_ms.p99 });
      }
    }
  }
  return pairs;
}

/** How many connect storms with and without tokens, taken in turn. */
const TOKEN_PAIRS = 4;

/**
 * The connect storm against Roster's server checking HS256 tokens (each
 * client its own), paired with the same storm on a server without keys:
 * `TOKEN_PAIRS` pairs, each storm on a fresh server and a fresh port, and
 * the order swapped every pair. (On one port the second storm of a pair
 * was slower whatever it carried: the first left 10,000 sockets in
 * TIME_WAIT to that port, of about 28,000 ephemeral ports, and the
 * kernel's search for a free one grew.)
 */
async function tokenStorms(clients) {
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-')), 'hs256.secret');
  fs.writeFileSync(secret, crypto.randomBytes(48).toString('base64'));
  const storm = async (extra, flags) => {
    const port = await freePort();
    const server = await startServer('roster', port, 0, extra);
    try {
      return await loadgen(['connect-storm', '--url', `ws://127.0.0.1:${port}/api/v1/users/ws`, '--clients', String(clients), ...flags]);
    } finally {
      await stopServer(server);
    }
  };
  const withoutTokens = () => storm([], []);
  const withTokens = () => storm(['--auth-hs256-secret-file', secret], ['--token-secret-file', secret]);
  const pairs = [];
  for (let i = 0; i < TOKEN_PAIRS; i++) {
    let plain;
    let tokens;
    if (i % 2 === 0) {
      plain = await withoutTokens();
      tokens = await withTokens();
    } else {
      tokens = await withTokens();
      plain = await withoutTokens();
    }
    if (tokens.failed > 0 || plain.failed > 0) throw new Error(`connect storm failed: ${JSON.stringify({ plain, tokens })}`);
    pairs.push({ plain: plain.all_in_step_ms, tokens: tokens.all_in_step_ms });
  }
  return pairs;
}

/** Users in the list whose snapshot is weighed on the wire. */
const SNAPSHOT_USERS = 10_000;

/**
 * The snapshot of `SNAPSHOT_USERS` demo users as one client receives it,
 * plain and with permessage-deflate, from the same server.
 */
async function snapshotOnTheWire() {
  const port = await freePort();
  const server = await startServer('roster', port, SNAPSHOT_USERS);
  try {
    const storm = (flags) => loadgen(['connect-storm', '--url', `ws://127.0.0.1:${port}/api/v1/users/ws`, '--clients', '1', ...flags]);
    const plain = await storm([]);
    const deflate = await storm(['--deflate']);
    if (!deflate.deflate) throw new Error('the server did not agree permessage-deflate');
    return { plain: plain.snapshot_wire_bytes, deflate: deflate.snapshot_wire_bytes };
  } finally {
    await stopServer(server);
  }
}

/** Lists in the many-lists run, their users, and watchers on each. */
const LISTS = 1_000;
const LIST_USERS = 100;
const LIST_CLIENTS = 10;

/** The resident memory of process `pid`, in bytes. */
function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) * 1024;
}

/** A metric of the server on `port`, unlabelled. */
async function metricOf(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
}

/**
 * One server holding `LISTS` lists of `LIST_USERS` users (issue 28), each
 * on a SQLite file so that the figures are the server's memory and not
 * an in-memory store's:
 * - the lists loaded and idle, then `LIST_CLIENTS` watchers on each, and
 *   what an add to one list sends to the others' sockets (loadgen
 *   `lists`);
 * - the same file opened again without naming them: the lists exist but
 *   are not in memory;
 * - an empty file: the baseline;
 * - the comparison the goal names: one list of `LISTS × LIST_USERS`
 *   users with as many sockets in all (loadgen `idle-memory`).
 */
async function manyLists() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-lists-'));
  const names = Array.from({ length: LISTS }, (_, n) => `l${String(n).padStart(4, '0')}`);
  const sockets = LISTS * LIST_CLIENTS;
  // (The bench's servers take 30,000 connections: enough.)
  const listFlags = ['--anonymous-lists', '*', '--max-loaded-lists', String(LISTS + 10), '--list-idle-ms', '3600000'];
  const db = (name) => ['--db', path.join(dir, name)];
  const start = async (demo, extra) => {
    const port = await freePort();
    const child = await startServer('roster', port, demo, extra);
    return { port, child };
  };
  const result = {};
  {
    const { port, child } = await start(LIST_USERS, [...db('lists.db'), ...listFlags, '--list', names.join(',')]);
    try {
      result.loaded = await metricOf(port, 'roster_lists_loaded');
      result.rss_loaded = rssOf(child.pid);
      result.run = await loadgen(['lists', '--url', `ws://127.0.0.1:${port}/api/v1/lists/{list}/ws`, '--lists', String(LISTS),
        '--clients', String(LIST_CLIENTS), '--rounds', '20', '--pid', String(child.pid)]);
    } finally {
      await stopServer(child);
    }
  }
  {
    const { port, child } = await start(0, [...db('lists.db'), ...listFlags]);
    try {
      result.existing = await metricOf(port, 'roster_lists');
      result.rss_unloaded = rssOf(child.pid);
    } finally {
      await stopServer(child);
    }
  }
  {
    const { child } = await start(0, [...db('empty.db'), ...listFlags]);
    try {
      result.rss_base = rssOf(child.pid);
    } finally {
      await stopServer(child);
    }
  }
  {
    const { port, child } = await start(LISTS * LIST_USERS, [...db('one.db'), ...listFlags]);
    try {
      result.one_list = await loadgen(['idle-memory', '--url', `ws://127.0.0.1:${port}/api/v1/users/ws`,
        '--clients', String(sockets), '--deflate', '--pid', String(child.pid)]);
    } finally {
      await stopServer(child);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

async function main() {
  if (args.includes('--report')) {
    process.stdout.write(markdown(JSON.parse(fs.readFileSync(JSON_OUT, 'utf8'))));
    return;
  }
  const results = { when: new Date().toISOString(), sizes: {}, previous_commit: process.env.ROSTER_PREVIOUS_COMMIT };
  if (!args.includes('--no-lists')) {
    results.lists = await manyLists();
    console.error(`many lists: ${JSON.stringify(results.lists)}`);
    if (args.includes('--only-lists')) {
      process.stdout.write(listsMarkdown(results.lists));
      return;
    }
  }
  results.snapshot = await snapshotOnTheWire();
  console.error(`snapshot on the wire: ${JSON.stringify(results.snapshot)}`);
  for (const clients of SIZES) {
    results.sizes[clients] = {};
    for (const kind of ['roster', 'node']) {
      console.error(`${clients} clients, ${kind} …`);
      results.sizes[clients][kind] = await measure(kind, clients);
      console.error(JSON.stringify(results.sizes[clients][kind]));
    }
    if (PREVIOUS && clients >= 10_000) {
      console.error(`${clients} clients, this build against the previous …`);
      results.sizes[clients].previous = await againstPrevious(clients);
      console.error(JSON.stringify(results.sizes[clients].previous));
    }
    console.error(`${clients} clients, roster with tokens …`);
    results.sizes[clients].token_storms = await tokenStorms(clients);
    console.error(JSON.stringify(results.sizes[clients].token_storms));
  }
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(markdown(results));
}

const count0 = (v) => (v === undefined ? '–' : Math.round(v).toLocaleString('en'));
const ratio = (a, b) => (a === undefined || !b ? '–' : (a / b).toFixed(2));
const ms = (v) => (v === undefined ? '–' : `${Number(v).toFixed(1)} ms`);

/** The many-lists figures as a table. */
function listsMarkdown(l) {
  const mb = (v) => `${(v / 1e6).toFixed(1)} MB`;
  const kib = (v) => `${(v / 1024).toFixed(1)} KiB`;
  const sockets = LISTS * LIST_CLIENTS;
  const perLoaded = (l.rss_loaded - l.rss_unloaded) / LISTS;
  const perExisting = (l.rss_unloaded - l.rss_base) / LISTS;
  const many = l.run.rss_with_sockets;
  const one = l.one_list.rss_after;
  const lines = ['### Many lists on one server (issue 28)', ''];
  lines.push(`Measured by \`node bench/server.mjs\` (part of \`scripts/bench.sh\`): the release server on a SQLite file, ${LISTS.toLocaleString('en')} lists of ${LIST_USERS} users (\`--list\`, \`--demo-users ${LIST_USERS}\`), then ${LIST_CLIENTS} watchers on each (\`roster-loadgen lists\`, permessage-deflate offered as browsers do); beside it, in the same run, one list of ${(LISTS * LIST_USERS).toLocaleString('en')} users with ${sockets.toLocaleString('en')} watchers (\`roster-loadgen idle-memory\`).`, '');
  lines.push('| figure | value |', '|---|---|');
  lines.push(`| lists in memory after start | ${l.loaded} |`);
  lines.push(`| server memory: empty file / ${LISTS.toLocaleString('en')} lists existing, not loaded / loaded, idle | ${mb(l.rss_base)} / ${mb(l.rss_unloaded)} / ${mb(l.rss_loaded)} |`);
  lines.push(`| memory per loaded, idle list of ${LIST_USERS} users | ${kib(perLoaded)} |`);
  lines.push(`| memory per list that exists but is not loaded | ${kib(perExisting)} |`);
  lines.push(`| memory per connection, ${sockets.toLocaleString('en')} sockets over ${LISTS.toLocaleString('en')} lists | ${kib(l.run.bytes_per_connection)} |`);
  lines.push(`| server memory: ${LISTS.toLocaleString('en')} lists × ${LIST_USERS} users, ${sockets.toLocaleString('en')} sockets ÷ one list of ${(LISTS * LIST_USERS).toLocaleString('en')} users, ${sockets.toLocaleString('en')} sockets (goal ≤ 2) | ${mb(many)} ÷ ${mb(one)} = **${(many / one).toFixed(2)}** |`);
  lines.push(`| an add to one list: all ${LIST_CLIENTS} of its watchers have it, p50 / p99 of ${l.run.rounds} | ${ms(l.run.delivered_ms.p50)} / ${ms(l.run.delivered_ms.p99)} |`);
  lines.push(`| change frames that reached the other ${(LISTS - 1).toLocaleString('en')} lists' ${(sockets - LIST_CLIENTS).toLocaleString('en')} watchers (goal 0) | **${l.run.other_lists_change_frames}** |`);
  lines.push(`| frames the server sent during the ${l.run.rounds} adds, all sockets (${LIST_CLIENTS} watchers + the writer's ack and change, each add: ${l.run.frames_out_expected}) | ${l.run.frames_out} |`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}

function markdown(r) {
  const lines = ['### At scale: Roster against Node `ws` (same load generator, same run)', ''];
  lines.push(`Measured by \`node bench/server.mjs\` (part of \`scripts/bench.sh\`), ${r.when}: \`crates/loadgen\` (a native tokio client, \`target/release/roster-loadgen\`) against the release \`roster-server\` (\`--db :memory:\`) and \`bench/node-server/server.js\` (Node \`ws\`, the same v1 subset), each scenario on a fresh server, all on this machine. A ratio below 1 means Roster is better.`, '');
  lines.push('| clients | figure | Roster | Node ws | ratio |', '|---|---|---|---|---|');
  for (const [clients, s] of Object.entries(r.sizes)) {
    const { roster: a, node: b } = s;
    const n = Number(clients).toLocaleString('en');
    const row = (figure, x, y, fmt = ms) => lines.push(`| ${n} | ${figure} | ${fmt(x)} | ${fmt(y)} | ${ratio(x, y)} |`);
    row('connect storm: all in step', a.connect.all_in_step_ms, b.connect.all_in_step_ms);
    const pairs = s.token_storms;
    if (pairs) {
      const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      const withTokens = median(pairs.map((p) => p.tokens));
      const without = median(pairs.map((p) => p.plain));
      const ratios = pairs.map((p) => (p.tokens / p.plain).toFixed(2)).join(', ');
      lines.push(`| ${n} | Roster's server, connect storm with an HS256 token each ÷ without (goal ≤ 1.2; median of ${pairs.length} pairs, each ${ratios}) | ${ms(withTokens)} | ${ms(without)} | ${ratio(median(pairs.map((p) => p.tokens / p.plain)), 1)} |`);
    }
    if (s.previous) {
      const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      for (const [key, figure] of [['connect', 'connect storm: all in step'], ['fanout', 'fan-out: all delivered, p99']]) {
        const pairs = s.previous[key];
        const each = pairs.map((p) => (p.now / p.before).toFixed(2)).join(', ');
        lines.push(`| ${n} | this build ÷ the previous campaign's (${r.previous_commit ?? 'previous'}), ${figure} (goal ≤ 1.10; median of ${pairs.length} pairs, each ${each}) | ${ms(median(pairs.map((p) => p.now)))} | ${ms(median(pairs.map((p) => p.before)))} | ${ratio(median(pairs.map((p) => p.now / p.before)), 1)} |`);
      }
    }
    const kib = (v) => `${(v / 1024).toFixed(2)} KiB`;
    row('idle memory per connection', a.idle.bytes_per_connection, b.idle.bytes_per_connection, kib);
    if (a.idle_deflate) {
      row('idle memory per connection, Roster with permessage-deflate agreed (goal at 10,000 ≤ 4 KiB)', a.idle_deflate.bytes_per_connection, b.idle.bytes_per_connection, kib);
    }
    row('fan-out: all delivered, p50', a.fanout.all_delivered_ms.p50, b.fanout.all_delivered_ms.p50);
    row('fan-out: all delivered, p99', a.fanout.all_delivered_ms.p99, b.fanout.all_delivered_ms.p99);
    row('fan-out: per client, p99', a.fanout.per_client_ms.p99, b.fanout.per_client_ms.p99);
    if (a.fanout_deflate) {
      row('fan-out: all delivered, p99, Roster with permessage-deflate agreed (goal at 10,000 ≤ 150 ms)', a.fanout_deflate.all_delivered_ms.p99, b.fanout.all_delivered_ms.p99);
    }
    const perS = (v) => Math.round(v).toLocaleString('en');
    lines.push(`| ${n} | sustained: delivered messages/s (higher is better; ratio Node ÷ Roster) | ${perS(a.sustained.delivered_per_s)} | ${perS(b.sustained.delivered_per_s)} | ${ratio(b.sustained.delivered_per_s, a.sustained.delivered_per_s)} |`);
    row('sustained: lag p99', a.sustained.lag_ms.p99, b.sustained.lag_ms.p99);
    if (a.seed && b.seed) {
      const users = SEED_USERS.toLocaleString('en');
      row(`seed clients, ${users} users: all delivered, p50`, a.seed.all_delivered_ms.p50, b.seed.all_delivered_ms.p50);
      row(`seed clients, ${users} users: all delivered, p99`, a.seed.all_delivered_ms.p99, b.seed.all_delivered_ms.p99);
      const mb = (v) => `${(v / 1e6).toFixed(1)} MB`;
      row(`seed clients, ${users} users: server memory after`, a.seed.rss_after, b.seed.rss_after, mb);
    }
    for (const backoff of ['roster', 'fixed']) {
      const x = a[`reconnect_${backoff}`];
      const y = b[`reconnect_${backoff}`];
      const count = (v) => (v === undefined ? '–' : Math.round(v).toLocaleString('en'));
      row(`reconnect storm, ${backoff} backoff: all back`, x.all_back_ms, y.all_back_ms);
      row(`reconnect storm, ${backoff} backoff: connects in the busiest second`, x.peak_connects_per_s, y.peak_connects_per_s, count);
      row(`reconnect storm, ${backoff} backoff: busiest 100 ms × 10`, x.peak_connects_per_100ms_x10, y.peak_connects_per_100ms_x10, count);
    }
    // The goal is stated for 10,000 clients; with 1,000 the crowd
    // window is 1 s, so both kinds of clients fit in one second.
    if (Number(clients) >= 10_000) {
      const jitter = a.reconnect_roster;
      const fixed = a.reconnect_fixed;
      const goal = (what, x, y) => lines.push(`| ${n} | Roster's server, jittered ÷ fixed-delay clients: ${what} (goal ≤ 0.33) | ${count0(x)} | ${count0(y)} | ${ratio(x, y)} |`);
      goal('busiest second', jitter.peak_connects_per_s, fixed.peak_connects_per_s);
      goal('busiest 100 ms', jitter.peak_connects_per_100ms_x10, fixed.peak_connects_per_100ms_x10);
      lines.push(`| ${n} | Roster's server: longest away, jittered clients (goal ≤ cap ${count0(jitter.backoff_cap_ms)} ms + 5 s) | ${ms(jitter.away_ms.max)} | | |`);
    }
  }
  if (r.lists) {
    lines.push('', listsMarkdown(r.lists));
  }
  if (r.snapshot) {
    const kb = (v) => `${v.toLocaleString('en')} bytes`;
    lines.push('', `**The ${SNAPSHOT_USERS.toLocaleString('en')}-user snapshot on the wire** (one client, the same server): permessage-deflate ${kb(r.snapshot.deflate)}, plain ${kb(r.snapshot.plain)}; ratio **${ratio(r.snapshot.deflate, r.snapshot.plain)}** (goal ≤ 0.17, a sixth).`);
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
