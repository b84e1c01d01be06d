// The deployment in deploy/ (Redis, three roster-server instances, nginx
// terminating TLS), started by deploy/cluster.sh on free ports, for the
// specs that need it whole.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort, waitUntil, DIST } = require('./server');
const { v1Connections, metricAt } = require('./metrics');

const ROOT = path.resolve(__dirname, '../../..');

class Cluster {
  /** Starts deploy/cluster.sh and waits for every instance and nginx. */
  static async start() {
    const cluster = new Cluster();
    cluster.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-cluster-'));
    cluster.port = await freePort();
    cluster.instancePorts = [await freePort(), await freePort(), await freePort()];
    cluster.log = '';
    const redisPort = await freePort();
    cluster.child = spawn(path.join(ROOT, 'deploy/cluster.sh'), [], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ROSTER_CLUSTER_PORT: String(cluster.port),
        ROSTER_INSTANCE_PORTS: cluster.instancePorts.join(' '),
        ROSTER_REDIS_PORT: String(redisPort),
        ROSTER_CLUSTER_DIR: cluster.dir,
        ROSTER_DIST: DIST,
      },
    });
    cluster.child.stdout.on('data', (d) => (cluster.log += d));
    cluster.child.stderr.on('data', (d) => (cluster.log += d));
    let exited = false;
    cluster.child.once('exit', () => (exited = true));
    await waitUntil('the cluster behind nginx', async () => {
      if (exited) throw new Error(`deploy/cluster.sh exited:\n${cluster.log}`);
      const up = await Promise.all(cluster.instancePorts.map((p) => fetch(`http://127.0.0.1:${p}/healthz`).then((r) => r.ok, () => false)));
      return up.every(Boolean) && fs.existsSync(path.join(cluster.dir, 'nginx.pid'));
    }, 60_000);
    return cluster;
  }

  get origin() {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Open v1 connections on each instance, in `instancePorts` order. */
  connections() {
    return Promise.all(this.instancePorts.map((p) => v1Connections(`http://127.0.0.1:${p}`)));
  }

  /** The instance whose connection count went up from `before`. */
  async instanceGaining(before) {
    let found;
    await waitUntil('a new connection on some instance', async () => {
      const now = await this.connections();
      found = this.instancePorts.find((_, i) => now[i] > before[i]);
      return found !== undefined;
    });
    return found;
  }

  /** One instance, read directly (not through nginx). */
  instance(port) {
    const origin = `http://127.0.0.1:${port}`;
    return {
      origin,
      users: async () => (await fetch(`${origin}/api/v1/users`)).json(),
      metric: (series) => metricAt(origin, series),
      // The process listening there, found by its command line.
      pid: () => Number(execFileSync('pgrep', ['-f', '--', `--addr 127.0.0.1:${port} `]).toString().trim().split('\n')[0]),
    };
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(-this.child.pid, 'SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Cluster };
