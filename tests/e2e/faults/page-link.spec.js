// The link between a page and its server: lossy, slow and reordering, or
// cut without a word. Run by scripts/faults.sh inside a network namespace
// of its own; the page reaches the server through 127.0.0.3, the link the
// rules act on, while the test reads the server through 127.0.0.1.
//
// Expected, written before the runs:
// - 20 % loss, 300 ± 200 ms delay and reordering, while the page adds for
//   a while (default heartbeat settings): TCP delivers what it can, the
//   page may reconnect, and every add lands exactly once.
// - A partition that heals after 5, 30 or 120 s, the page adding before
//   it and in its first seconds: the page notices the silence within ping_ms +
//   pong_timeout_ms (here 1 + 1 s) and keeps what is pressed; the server
//   drops the dead socket within --peer-timeout-ms (here 10 s) when the
//   partition outlasts it; within 10 s of healing the page is connected,
//   has sent everything and holds the store's list.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { record } = require('../support/reliability');
const { keepAdding } = require('../support/roster-page');
const { v1Connections } = require('../support/metrics');
const { Link, timeUntil, hold, seconds } = require('../support/faults');
const { Scenario, FAULT_SETTINGS, plural } = require('../support/scenario');

const SUITE = 'faults';
const PAGE_ADDRESS = '127.0.0.3';
const LOSSY_MS = seconds('ROSTER_FAULT_LOSSY_S', 40);
const PEER_TIMEOUT_MS = 10_000;
const RECOVER_MS = 10_000;

/** A server any loopback address reaches, with its link to the page. */
async function serverWithLink() {
  const server = await RosterServer.start(undefined, {
    host: '0.0.0.0',
    args: ['--anonymous', 'write', '--peer-timeout-ms', String(PEER_TIMEOUT_MS)],
  });
  return { server, link: new Link(PAGE_ADDRESS, server.port) };
}

test('a page behind 20 % loss, 300 ± 200 ms delay and reordering: every add lands once', async ({ browser }) => {
  test.setTimeout(90_000 + LOSSY_MS * 2);
  const { server, link } = await serverWithLink();
  const context = await browser.newContext();
  try {
    const scenario = new Scenario();
    scenario.instance('server', server);
    // Default heartbeat and timeouts: a real page on a bad link.
    const { outbox_max, outbox_ttl_ms } = FAULT_SETTINGS;
    const roster = await scenario.open(context, 'page', server.originVia(PAGE_ADDRESS), { outbox_max, outbox_ttl_ms });
    let sockets = 0;
    roster.page.on('websocket', () => (sockets += 1));
    await link.lossy({ loss: 0.2, delayMs: 300, jitterMs: 200 });
    let running = true;
    const adding = keepAdding(roster, () => running);
    await hold(LOSSY_MS);
    running = false;
    const presses = await adding;
    link.heal();
    const { problems, counts, settledMs } = await scenario.settle(60_000);
    expect(problems).toEqual([]);
    expect(counts.acked, 'every press stored once').toBe(presses);
    record(SUITE, 'lossy link', `20 % loss each way, 300 ± 200 ms delay with reordering, for ${LOSSY_MS / 1000} s while the page presses Add`,
      counts.operations, `all ${presses} presses stored exactly once over ${plural(sockets, 'new socket')}; the page equal to the store ` +
      `${settledMs} ms after the link healed; ${plural(counts.versions, 'version')} seen in order`);
  } finally {
    link.dispose();
    await context.close();
    await server.dispose();
  }
});

for (const partitionS of [5, 30, 120]) {
  test(`a partition between a page and its server, healed after ${partitionS} s`, async ({ browser }) => {
    const partitionMs = partitionS * 1000;
    test.setTimeout(60_000 + partitionMs);
    const { server, link } = await serverWithLink();
    const context = await browser.newContext();
    try {
      const scenario = new Scenario();
      scenario.instance('server', server);
      const roster = await scenario.open(context, 'page', server.originVia(PAGE_ADDRESS));
      let running = true;
      const adding = keepAdding(roster, () => running);
      await hold(1_000);

      link.blackhole();
      const cut = Date.now();
      const noticedMs = await timeUntil('the page notices', async () => (await roster.status.getAttribute('data-state')) !== 'connected',
        FAULT_SETTINGS.ping_ms + FAULT_SETTINGS.pong_timeout_ms + 2_000);
      // Presses go on for the first seconds of the partition, then stop:
      // what matters is that they are kept, not how fast the server's
      // per-connection write rate (10 a second) drains hundreds.
      await hold(3_000);
      running = false;
      const presses = await adding;
      let droppedMs;
      if (partitionMs > PEER_TIMEOUT_MS + 5_000) {
        const waitFrom = Date.now();
        droppedMs = await timeUntil('the server drops the dead socket', async () => (await v1Connections(server.origin)) === 0,
          PEER_TIMEOUT_MS + 5_000) + (waitFrom - cut);
      }
      await hold(partitionMs - (Date.now() - cut));
      link.heal();
      const healed = Date.now();
      await timeUntil('the page is back, with nothing waiting', async () =>
        (await roster.status.getAttribute('data-state')) === 'connected' && (await roster.pending.count()) === 0, RECOVER_MS);
      const backMs = Date.now() - healed;
      const { problems, counts } = await scenario.settle();
      expect(problems).toEqual([]);
      expect(counts.acked, 'every press stored once').toBe(presses);
      const dropped = droppedMs === undefined ? '' : `, the server dropped its socket after ${droppedMs} ms`;
      record(SUITE, `partition of ${partitionS} s`, `a blackhole between a page and its server for ${partitionS} s; the page presses Add before it and in its first 3 s`,
        counts.operations, `the page noticed after ${noticedMs} ms${dropped}; back and caught up ${backMs} ms after healing; ` +
        `all ${presses} presses stored exactly once`);
    } finally {
      link.dispose();
      await context.close();
      await server.dispose();
    }
  });
}
