// Starts and stops the real roster-server binary on a loopback port.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { metricAt } = require('./metrics');

const REPO = path.resolve(__dirname, '../../..');
const SERVER_BIN = process.env.ROSTER_SERVER_BIN || path.join(REPO, 'target/debug/roster-server');
const DIST = process.env.ROSTER_DIST || path.join(REPO, 'dist');
const PATIENCE_MS = 15_000;

/** A free loopback port: bound by the OS, then released for the server. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves when `check()` returns true; polls every 25 ms up to `ms`. */
async function waitUntil(what, check, ms = PATIENCE_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

class RosterServer {
  /**
   * `args`: extra roster-server flags, e.g. `['--demo-users', '1000']`;
   * `host`: the address to listen on (the fault tests use `0.0.0.0`, so
   * that a page can reach it through an address of its own).
   */
  constructor(port, { args = [], db, host = '127.0.0.1' } = {}) {
    this.port = port;
    this.host = host;
    this.extraArgs = args;
    this.child = null;
    this.log = '';
    // One SQLite file per server, kept across its restarts like a real
    // deployment's.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-e2e-'));
    this.db = db ?? path.join(this.dir, 'roster.db');
  }

  static async start(port, options) {
    const server = new RosterServer(port ?? (await freePort()), options);
    await server.start();
    return server;
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server as reached through another loopback address. */
  originVia(address) {
    return `http://${address}:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/api/v1/users/ws`;
  }

  async start() {
    const args = ['--addr', `${this.host}:${this.port}`, '--dist', this.dist ?? DIST, '--db', this.db, ...this.extraArgs];
    this.child = spawn(SERVER_BIN, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
    });
    const child = this.child;
    child.stdout.on('data', (d) => (this.log += d));
    child.stderr.on('data', (d) => (this.log += d));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitUntil(`roster-server on port ${this.port}`, async () => {
      if (exited) throw new Error(`roster-server exited at start:\n${this.log}`);
      // /healthz answers whatever the access rules (the list may need a token).
      return fetch(`${this.origin}/healthz`).then((answer) => answer.ok, () => false);
    });
  }

  /** The server's list, from its HTTP API. */
  /** The path of `list`'s users (`default`'s by the single-list path). */
  usersPath(list) {
    return list ? `/api/v1/lists/${list}/users` : '/api/v1/users';
  }

  /** The list `list` (`default` when none is named), over HTTP. */
  async users(list) {
    const path = this.usersPath(list);
    const response = await fetch(`${this.origin}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response.json();
  }

  /** Adds a user through the HTTP API (as another client would); returns it. */
  async add(user = {}, list = undefined) {
    const path = this.usersPath(list);
    const response = await fetch(`${this.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status}`);
    return response.json();
  }

  /** The value of one series of `/metrics`, e.g. `roster_connections{protocol="seed"}`. */
  async metric(series) {
    return metricAt(this.origin, series);
  }

  /** Freezes the process (SIGSTOP): its sockets stay open and silent. */
  freeze() {
    this.child.kill('SIGSTOP');
    this.frozen = true;
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw() {
    this.child.kill('SIGCONT');
    this.frozen = false;
  }

  /** Stops the server with `signal` and waits for the process to end. */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // A stopped process acts on SIGTERM only once it runs again.
    if (this.frozen && signal !== 'SIGKILL') this.thaw();
    this.frozen = false;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = null;
  }

  /** Stops the server and deletes its database. */
  async dispose() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * roster-server flags for the lists public/embed-example.html shows, open
 * to pages without a token as scripts/run.sh makes them.
 */
const EXAMPLE_LISTS = ['--list', 'team-a,team-b', '--anonymous-lists', 'team-a,team-b'];

module.exports = { RosterServer, freePort, waitUntil, DIST, EXAMPLE_LISTS };
