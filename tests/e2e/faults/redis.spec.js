// Redis that goes silent without closing: partitioned from one instance,
// or frozen for everyone. Run by scripts/faults.sh inside a network
// namespace of its own (see support/faults.js).
//
// Expected, written before the runs:
// - Partition (one instance cut from Redis by a blackhole, its pages still
//   connected to it): within 5 s the instance counts Redis as down
//   (`roster_store_up` 0, `/healthz` 503) and refuses writes with
//   `store_unavailable`, which its pages keep and send again; it keeps
//   serving reads (`GET /api/v1/users` 200, its sockets stay open). Pages
//   on the other instance never notice: their adds are acknowledged
//   throughout and they never show a problem. Within 10 s of the
//   partition healing the instance is healthy again and its pages hold
//   the store's list, with no reload. (The page on A presses in the
//   partition's first seconds only: the server's per-connection write rate
//   of 10 a second, not the partition, would bound how fast hundreds drain.)
// - Freeze (SIGSTOP for 30 s): both instances notice within 5 s and
//   refuse writes; within 10 s of SIGCONT both are healthy and every page
//   holds the store's list.
// In both, the history checker finds nothing acknowledged lost or doubled.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RedisServer } = require('../support/redis');
const { record } = require('../support/reliability');
const { keepAdding } = require('../support/roster-page');
const { Link, timeUntil, hold, seconds } = require('../support/faults');
const { Scenario, plural } = require('../support/scenario');

const SUITE = 'faults';
const PARTITION_MS = seconds('ROSTER_FAULT_REDIS_PARTITION_S', 15);
const FREEZE_MS = seconds('ROSTER_FAULT_REDIS_FREEZE_S', 30);
const NOTICE_MS = 5_000;
const RECOVER_MS = 10_000;

/** What the instance says of its store: `/healthz`'s status and `roster_store_up`. */
async function storeSays(server) {
  const [health, up] = await Promise.all([fetch(`${server.origin}/healthz`), server.metric('roster_store_up')]);
  return { status: health.status, up };
}

/** Whether it says its store is up, on both /healthz and /metrics. */
async function storeUp(server) {
  const { status, up } = await storeSays(server);
  return status === 200 && up === 1;
}

/**
 * Whether `roster_store_up` is 0: read from memory, so it is polled
 * without waiting, unlike `/healthz`, which may ask Redis for up to the
 * command deadline.
 */
const metricDown = async (server) => (await server.metric('roster_store_up')) === 0;

/** Whether it says its store is down, on both. */
async function storeDown(server) {
  const { status, up } = await storeSays(server);
  return status === 503 && up === 0;
}

/** A scenario over instances A and B, with a page on each. */
async function pageOnEach(context, a, b) {
  const scenario = new Scenario();
  scenario.instance('A', a);
  scenario.instance('B', b);
  scenario.history.baseline(await a.users());
  const onA = await scenario.open(context, 'page on A', a.origin);
  const onB = await scenario.open(context, 'page on B', b.origin);
  return { scenario, onA, onB };
}

test('an instance partitioned from Redis refuses writes, serves reads and catches up; the other never notices', async ({ browser }) => {
  test.setTimeout(60_000 + PARTITION_MS * 2);
  // Redis listens on two addresses: instance A reaches it through
  // 127.0.0.2, which the partition cuts; B through 127.0.0.1.
  const redis = await RedisServer.start(['127.0.0.1', '127.0.0.2']);
  const a = await RosterServer.start(undefined, { args: ['--redis', redis.urlVia('127.0.0.2')] });
  const b = await RosterServer.start(undefined, { args: ['--redis', redis.url] });
  const link = new Link('127.0.0.2', redis.port);
  const context = await browser.newContext();
  try {
    const { scenario, onA, onB } = await pageOnEach(context, a, b);
    let running = true;
    // The page on A presses until 3 s into the partition (what matters is
    // that those are kept, not how fast the server's per-connection write
    // rate, 10 a second, drains hundreds); the page on B throughout.
    let aPressing = true;
    const adding = [keepAdding(onA, () => aPressing), keepAdding(onB, () => running)];
    await hold(1_000);

    link.blackhole();
    const noticedMs = await timeUntil('A counts its store as down', () => metricDown(a), NOTICE_MS + 2_000);
    expect(await storeDown(a), '/healthz says so too').toBe(true);
    const cut = Date.now();
    // Reads go on: the API answers from memory, the page stays connected.
    const read = await fetch(`${a.origin}/api/v1/users`);
    expect(read.status).toBe(200);
    await hold(3_000);
    aPressing = false;
    await hold(PARTITION_MS - (Date.now() - cut));
    await onA.expectState('connected');
    expect(await storeUp(b), 'B never notices').toBe(true);
    const acksOnB = scenario.history.acksBetween('page on B', cut);
    const acksOnA = scenario.history.acksBetween('page on A', cut);
    expect(acksOnB.done, 'adds on B acknowledged during the partition').toBeGreaterThan(0);
    expect(acksOnB.refused.store_unavailable ?? 0, 'no add on B refused for the store').toBe(0);
    expect(acksOnA.done, 'no add on A acknowledged during the partition').toBe(0);
    expect(acksOnA.refused.store_unavailable, 'adds on A refused (store_unavailable)').toBeGreaterThan(0);
    await expect(onB.lastError).toHaveCount(0);

    link.heal();
    const healed = Date.now();
    running = false;
    const presses = (await Promise.all(adding)).reduce((x, y) => x + y, 0);
    const healthyMs = await timeUntil('A says its store is up', () => storeUp(a), RECOVER_MS);
    await timeUntil('the page on A holds the store\'s list with nothing waiting', async () => {
      const store = await b.users();
      return (await onA.pending.count()) === 0
        && (await onA.count.getAttribute('value')) === String(store.length);
    }, RECOVER_MS);
    const caughtUpMs = Date.now() - healed;
    const { problems, counts } = await scenario.settle();
    expect(problems).toEqual([]);
    expect(counts.acked, 'every press stored').toBe(presses);
    expect(NOTICE_MS).toBeGreaterThanOrEqual(noticedMs);
    record(SUITE, 'Redis partitioned from one instance',
      `a blackhole between instance A and Redis for ${PARTITION_MS / 1000} s; a page on B presses Add throughout, a page on A before it and in its first 3 s`,
      counts.operations,
      `A said its store was down after ${noticedMs} ms (refused ${acksOnA.refused.store_unavailable} writes with store_unavailable, kept serving reads); ` +
      `B acknowledged ${acksOnB.done} adds meanwhile and showed nothing; after healing A was healthy in ${healthyMs} ms and its page ` +
      `held the store's list in ${caughtUpMs} ms; history checked: ${counts.acked} acknowledged adds, none lost or doubled, ${plural(counts.versions, 'version')} seen in order`);
  } finally {
    link.dispose();
    await context.close();
    await Promise.all([a.dispose(), b.dispose()]);
    await redis.dispose();
  }
});

test('Redis frozen for 30 s: both instances refuse writes, then everything catches up', async ({ browser }) => {
  test.setTimeout(60_000 + FREEZE_MS * 2);
  const redis = await RedisServer.start();
  const a = await RosterServer.start(undefined, { args: ['--redis', redis.url] });
  const b = await RosterServer.start(undefined, { args: ['--redis', redis.url] });
  const context = await browser.newContext();
  try {
    const { scenario, onA, onB } = await pageOnEach(context, a, b);
    let running = true;
    const adding = [keepAdding(onA, () => running), keepAdding(onB, () => running)];
    await hold(1_000);

    redis.freeze();
    const noticedMs = await timeUntil('both instances count the store as down',
      async () => (await Promise.all([metricDown(a), metricDown(b)])).every(Boolean), NOTICE_MS + 2_000);
    expect(await Promise.all([storeDown(a), storeDown(b)]), '/healthz says so too').toEqual([true, true]);
    await hold(FREEZE_MS - noticedMs);
    redis.thaw();
    const healthyMs = await timeUntil('both instances healthy', async () => (await Promise.all([storeUp(a), storeUp(b)])).every(Boolean), RECOVER_MS);
    running = false;
    const refused = ['page on A', 'page on B']
      .reduce((n, name) => n + (scenario.history.acksBetween(name, 0).refused.store_unavailable ?? 0), 0);
    const presses = (await Promise.all(adding)).reduce((x, y) => x + y, 0);
    const { problems, counts, settledMs } = await scenario.settle();
    expect(problems).toEqual([]);
    expect(counts.acked, 'every press stored').toBe(presses);
    expect(NOTICE_MS).toBeGreaterThanOrEqual(noticedMs);
    record(SUITE, 'Redis frozen', `SIGSTOP on Redis for ${FREEZE_MS / 1000} s while pages on two instances press Add`, counts.operations,
      `both instances said their store was down after ${noticedMs} ms and refused writes; healthy ${healthyMs} ms after SIGCONT, ` +
      `pages settled ${settledMs} ms later; ${refused} writes refused with store_unavailable and sent again; history checked: ${counts.acked} acknowledged adds, none lost or doubled`);
  } finally {
    redis.thaw();
    await context.close();
    await Promise.all([a.dispose(), b.dispose()]);
    await redis.dispose();
  }
});
