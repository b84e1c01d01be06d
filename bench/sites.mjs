// What the cold-load and Lighthouse benchmarks load, started the same way
// for both:
//   - startRoster: the release roster-server with demo users, as
//     scripts/run.sh serves Roster (its own compression, permessage-deflate);
//   - startBaselines: the React 19 + react-window widget (bench/react-widget,
//     built) and the plain-JS page (bench/pages/list.html), each with
//     Roster's stylesheet as bench.css, from a static host that compresses
//     (bench/static-host.mjs), at /react/ and /plain/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startStaticHost } from './static-host.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests/e2e/package.json'));
const { freePort } = require('./support/server.js');

const SERVER_BIN = process.env.ROSTER_SERVER_BIN || path.join(ROOT, 'target/release/roster-server');
export const DIST = process.env.ROSTER_DIST || path.join(ROOT, 'dist');
const WIDGET = path.join(ROOT, 'bench/react-widget/dist');

/** `--name value` from this process's arguments, else `fallback`. */
export function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
}

/**
 * The release roster-server with `users` demo users in memory, serving
 * `dist`, with `args` added (`--allowed-origin`, `--max-frame-bytes`, …).
 */
export async function startRoster(users, { dist = DIST, args = [] } = {}) {
  const port = await freePort();
  const child = spawn(SERVER_BIN, [
    '--addr', `127.0.0.1:${port}`, '--dist', dist, '--db', ':memory:',
    '--demo-users', String(users), ...args,
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
    origin: url,
    ws: `ws://127.0.0.1:${port}/api/v1/users/ws`,
    async users() {
      return (await (await fetch(`${url}/healthz`)).json()).users;
    },
    async add() {
      const response = await fetch(`${url}/api/v1/users`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
      });
      if (response.status !== 201) throw new Error(`POST: ${response.status}`);
      return response.json();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * The two baseline pages on one static host: `origin`, `reactUrl(ws)`,
 * `plainUrl(ws)` and `stop()`.
 */
export async function startBaselines() {
  if (!fs.existsSync(path.join(WIDGET, 'app.js'))) throw new Error(`${WIDGET} is not built: cd bench/react-widget && npm ci && node build.mjs`);
  // Both baselines link bench.css beside them: Roster's own styles.
  const css = fs.readdirSync(DIST).find((f) => f.endsWith('.css'));
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-baselines-'));
  const react = path.join(site, 'react');
  const plain = path.join(site, 'plain');
  fs.cpSync(WIDGET, react, { recursive: true });
  fs.mkdirSync(plain);
  for (const file of ['list.html', 'list.js']) fs.copyFileSync(path.join(ROOT, 'bench/pages', file), path.join(plain, file));
  for (const dir of [react, plain]) fs.copyFileSync(path.join(DIST, css), path.join(dir, 'bench.css'));
  const host = await startStaticHost({ '/react/': react, '/plain/': plain });
  return {
    origin: host.origin,
    reactUrl: (ws) => `${host.origin}/react/?server=${encodeURIComponent(ws)}`,
    plainUrl: (ws) => `${host.origin}/plain/list.html?windowed&server=${encodeURIComponent(ws)}`,
    async stop() {
      await host.stop();
      fs.rmSync(site, { recursive: true, force: true });
    },
  };
}
