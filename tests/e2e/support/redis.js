// A real redis-server on a loopback port, with its own data directory and
// every write fsynced (AOF, appendfsync always), that a test can kill -9
// and start again on the same data.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort, waitUntil } = require('./server');

class RedisServer {
  /** `addresses`: the loopback addresses it listens on. */
  constructor(port, addresses = ['127.0.0.1']) {
    this.port = port;
    this.addresses = addresses;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-e2e-redis-'));
  }

  /** Starts one on a free port and waits until it answers. */
  static async start(addresses) {
    const redis = new RedisServer(await freePort(), addresses);
    await redis.start();
    return redis;
  }

  get url() {
    return this.urlVia('127.0.0.1');
  }

  /** Its URL through one of its addresses. */
  urlVia(address) {
    return `redis://${address}:${this.port}/0`;
  }

  /** Starts the process (again, on the same port and data). */
  async start() {
    this.child = spawn('redis-server', [
      '--port', String(this.port), '--bind', this.addresses.join(' '), '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no',
    ], { stdio: 'ignore' });
    await waitUntil(`redis-server on ${this.port}`, () => new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.write('PING\r\n');
        socket.once('data', (d) => { socket.destroy(); resolve(String(d).startsWith('+PONG')); });
      });
      socket.once('error', () => resolve(false));
    }));
  }

  /** `kill -9`: no shutdown, no final fsync; resolves once it is gone. */
  async kill() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the process (SIGSTOP): its sockets stay open and silent. */
  freeze() {
    this.child.kill('SIGSTOP');
  }

  /** Lets it run again (SIGCONT). */
  thaw() {
    this.child.kill('SIGCONT');
  }

  async dispose() {
    this.child?.kill('SIGCONT');
    if (this.child?.exitCode === null && this.child.signalCode === null) await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { RedisServer };
