// Faults made with the kernel's own tools, for the fault scenarios in
// tests/e2e/faults/. scripts/faults.sh runs them inside a network
// namespace it makes for the run (and deletes afterwards, whatever
// happened): every process of a scenario (Chromium, roster-server, Redis,
// nginx) lives on that namespace's own loopback, so no packet leaves it
// and no rule here can touch the machine's own network.
//
// One loopback, several links: the whole 127.0.0.0/8 is local, so a page
// or an instance that reaches a server through its own address
// (127.0.0.2, 127.0.0.3, ...) gets a link of its own, which iptables rules
// matching that address and the server's port can cut, slow or make lossy
// while everything else goes on:
//   - a blackhole: both directions dropped (no RST, no FIN: TCP just hears
//     nothing, as behind a partition or a firewall that drops);
//   - loss: `-m statistic --mode random` drops that share of packets;
//   - delay with reordering: `-j NFQUEUE` hands the packets to
//     `roster-link` (crates/link), which gives each back after its own
//     random delay. This kernel has no `tc netem`, which would otherwise
//     do it.
// Freezes are SIGSTOP/SIGCONT (support/server.js, support/redis.js), and
// a full disk is a small tmpfs (`SmallDisk`).
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../../..');
const LINK_BIN = process.env.ROSTER_LINK_BIN || path.join(REPO, 'target/debug/roster-link');

/**
 * Whether this process runs in a network namespace of its own, not the
 * one scripts/faults.sh started in (`ROSTER_HOST_NETNS`): the rules below
 * are only ever made there.
 */
function inTestNamespace() {
  try {
    const host = process.env.ROSTER_HOST_NETNS;
    return Boolean(process.env.ROSTER_FAULT_NS && host) && fs.readlinkSync('/proc/self/ns/net') !== host;
  } catch {
    return false;
  }
}

function iptables(...args) {
  if (!inTestNamespace()) throw new Error('refusing to change iptables outside the fault namespace');
  execFileSync('iptables', ['-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

let links = 0;

/**
 * The link between one address and one server port: packets to
 * `address:port` and back from it. Starts healthy; `dispose()` removes
 * every rule and process it made.
 */
class Link {
  constructor(address, port) {
    links += 1;
    this.address = address;
    this.port = String(port);
    this.chain = `roster-link-${links}`;
    this.queue = 100 + links;
    this.delayer = null;
    iptables('-N', this.chain);
    iptables('-I', 'OUTPUT', '-j', this.chain);
  }

  /** Both directions of the link, as iptables matches. */
  directions() {
    return [
      ['-p', 'tcp', '-d', this.address, '--dport', this.port],
      ['-p', 'tcp', '-s', this.address, '--sport', this.port],
    ];
  }

  /** Drops every packet, both ways, until `heal()`. */
  blackhole() {
    this.heal();
    for (const match of this.directions()) iptables('-A', this.chain, ...match, '-j', 'DROP');
  }

  /**
   * Loses `loss` (0-1) of the packets at random, and delays the rest by
   * `delayMs` ± `jitterMs` each (so they also arrive out of order).
   */
  async lossy({ loss, delayMs, jitterMs }) {
    this.heal();
    this.delayer = spawn(LINK_BIN, ['--queue', String(this.queue), '--delay-ms', String(delayMs), '--jitter-ms', String(jitterMs)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // It binds the queue before saying so; a rule sending to an unbound
    // queue would drop everything.
    await new Promise((resolve, reject) => {
      this.delayer.stderr.once('data', resolve);
      this.delayer.once('exit', (code) => reject(new Error(`roster-link exited with ${code}`)));
    });
    for (const match of this.directions()) {
      iptables('-A', this.chain, ...match, '-m', 'statistic', '--mode', 'random', '--probability', String(loss), '-j', 'DROP');
      iptables('-A', this.chain, ...match, '-j', 'NFQUEUE', '--queue-num', String(this.queue));
    }
  }

  /** A healthy link again. */
  heal() {
    iptables('-F', this.chain);
    if (this.delayer) {
      this.delayer.kill('SIGKILL');
      this.delayer = null;
    }
  }

  dispose() {
    try {
      this.heal();
      iptables('-D', 'OUTPUT', '-j', this.chain);
      iptables('-X', this.chain);
    } catch (err) {
      // The namespace goes with the run anyway.
      console.error(`could not remove ${this.chain}: ${err.message}`);
    }
  }
}

/** A small filesystem (tmpfs of `kib` KiB) to put a database on and fill. */
class SmallDisk {
  constructor(kib) {
    if (!inTestNamespace()) throw new Error('refusing to mount outside the fault namespace');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'roster-disk', this.dir]);
    this.filler = path.join(this.dir, 'filler');
  }

  /** Writes a file until the disk is full; returns the bytes written. */
  fill() {
    const block = Buffer.alloc(4096, 1);
    const fd = fs.openSync(this.filler, 'a');
    let written = 0;
    try {
      for (;;) written += fs.writeSync(fd, block);
    } catch (err) {
      if (err.code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
    return written;
  }

  /** Frees what `fill()` took. */
  free() {
    fs.rmSync(this.filler, { force: true });
  }

  dispose() {
    try {
      execFileSync('umount', ['-l', this.dir]);
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch (err) {
      console.error(`could not unmount ${this.dir}: ${err.message}`);
    }
  }
}

/** Resolves when `check()` is true, polling every 50 ms; returns the ms it took. */
async function timeUntil(what, check, ms) {
  const started = Date.now();
  for (;;) {
    const asked = Date.now();
    // A check that is slow to answer counts from when it was asked.
    if (await check().catch(() => false)) return asked - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits out a fault's length: the scenario's own clock, not a wait for a condition. */
const hold = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds from the environment (the long form sets them larger). */
const seconds = (name, short) => Number(process.env[name] || short) * 1000;

module.exports = { Link, SmallDisk, inTestNamespace, timeUntil, hold, seconds };
