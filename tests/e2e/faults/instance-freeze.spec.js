// An instance frozen for 60 s behind nginx (deploy/cluster.sh: Redis,
// three instances, nginx with TLS), inside the fault namespace.
//
// Expected, written before the run: the pages on the frozen instance hear
// no pong and notice within ping_ms + pong_timeout_ms (1 + 1 s); they
// reconnect through nginx to the other instances (an attempt nginx sends
// to the frozen one times out after connect_timeout_ms and is retried)
// and carry on adding. When the instance wakes, it greets nobody with the
// list of a minute ago: it asks Redis first (its change feed has not
// heard from it within the deadline), so a page opened on it at once gets
// the current list; it is healthy within 10 s, and the history checker
// finds every page's versions in order, nothing lost or doubled.
const { test, expect } = require('@playwright/test');
const { Cluster } = require('../support/cluster');
const { record } = require('../support/reliability');
const { keepAdding } = require('../support/roster-page');
const { timeUntil, hold, seconds } = require('../support/faults');
const { Scenario, FAULT_SETTINGS } = require('../support/scenario');

const FREEZE_MS = seconds('ROSTER_FAULT_FREEZE_S', 60);

test('an instance frozen for 60 s behind nginx: its pages move to the others; awake, it sends no stale list', async ({ browser }) => {
  test.setTimeout(120_000 + FREEZE_MS);
  const cluster = await Cluster.start();
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const scenario = new Scenario();
    for (const port of cluster.instancePorts) scenario.instance(`instance ${port}`, cluster.instance(port));
    // Three pages through nginx, which spreads them round robin.
    const pages = [];
    for (const name of ['page 1', 'page 2', 'page 3']) pages.push(await scenario.open(context, name, cluster.origin));
    await expect.poll(async () => (await cluster.connections()).reduce((x, y) => x + y, 0)).toBe(pages.length);
    // The instance with the most of them is frozen.
    const before = await cluster.connections();
    const most = before.indexOf(Math.max(...before));
    const frozenPort = cluster.instancePorts[most];
    const onFrozen = before[most];
    const frozen = cluster.instance(frozenPort);
    const others = cluster.instancePorts.filter((port) => port !== frozenPort).map((port) => cluster.instance(port));
    let running = true;
    const adding = pages.map((roster) => keepAdding(roster, () => running));
    await hold(1_000);

    const pid = frozen.pid();
    process.kill(pid, 'SIGSTOP');
    const frozenAt = Date.now();
    let thawed = false;
    try {
      // Each page it held leaves "connected", for want of a pong (the
      // others never do).
      const left = new Set();
      const noticedMs = await timeUntil('its pages notice', async () => {
        const states = await Promise.all(pages.map((r) => r.status.getAttribute('data-state')));
        states.forEach((state, i) => state !== 'connected' && left.add(i));
        return left.size >= onFrozen;
      }, FAULT_SETTINGS.ping_ms + FAULT_SETTINGS.pong_timeout_ms + 2_000);
      // Every page connected again, all of them to the other two.
      const movedMs = await timeUntil('its pages connected elsewhere', async () => {
        const states = await Promise.all(pages.map((r) => r.status.getAttribute('data-state')));
        const elsewhere = await Promise.all(others.map((other) => other.metric('roster_connections{protocol="roster.v1"}')));
        return states.every((state) => state === 'connected') && elsewhere.reduce((x, y) => x + y, 0) === pages.length;
      }, 30_000);
      await hold(FREEZE_MS - (Date.now() - frozenAt));
      // A store version read from a live instance just before the wake:
      // the woken one must greet nobody with less.
      const current = (await (await fetch(`${others[0].origin}/healthz`)).json()).version;
      process.kill(pid, 'SIGCONT');
      thawed = true;
      const fresh = await scenario.open(context, 'page opened on the woken instance', frozen.origin);
      const firstSnapshot = scenario.history.seen.get('page opened on the woken instance').find((e) => e.kind === 'snapshot');
      expect(firstSnapshot.version, 'the woken instance greets with the current list').toBeGreaterThanOrEqual(current);
      const healthyMs = await timeUntil('the woken instance is healthy', async () => (await fetch(`${frozen.origin}/healthz`)).ok, 10_000);
      running = false;
      const presses = (await Promise.all(adding)).reduce((x, y) => x + y, 0);
      const { problems, counts, settledMs } = await scenario.settle(30_000);
      expect(problems).toEqual([]);
      expect(counts.acked, 'every press stored once').toBe(presses);
      await fresh.expectState('connected');
      record('faults', 'instance frozen behind nginx', `SIGSTOP on one instance of three behind nginx for ${FREEZE_MS / 1000} s, ` +
        `${onFrozen} of 3 pages on it, all pressing Add`, counts.operations,
        `its pages noticed after ${noticedMs} ms and were all connected to the others ${movedMs} ms after that; awake, it greeted a new page ` +
        `with version ${firstSnapshot.version} (≥ ${current}, the store's before the wake) and was healthy in ${healthyMs} ms; ` +
        `everything settled ${settledMs} ms later; history checked: all ${presses} presses stored once, no page sent a stale list`);
    } finally {
      if (!thawed) process.kill(pid, 'SIGCONT');
    }
  } finally {
    await context.close();
    await cluster.stop();
  }
});
