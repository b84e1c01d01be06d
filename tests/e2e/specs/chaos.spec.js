// Chaos, end to end: two pages keep pressing Add while servers are killed
// with SIGKILL at random moments and restarted. Afterwards each page's
// whole list equals the server's, and the number of users stored equals
// the number of adds pressed: none lost, none doubled (an add that failed
// would have to be shown as failed; the settings below leave none to).
//
// ROSTER_CHAOS_KILLS sets how many kills (20 by default; the long run,
// scripts/reliability.sh --long, uses more). The Redis test also kills
// and restarts Redis, and kills one instance of three.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage, keepAdding, idsOnPage } = require('../support/roster-page');
const { record } = require('../support/reliability');
const { RedisServer } = require('../support/redis');

const KILLS = Number(process.env.ROSTER_CHAOS_KILLS || 20);
const SUITE = 'chaos';
// Fast retries, and room for every add pressed while a server is down:
// nothing may expire or overflow, so every press must end up stored.
const SETTINGS = {
  backoff_base_ms: 100,
  backoff_cap_ms: 500,
  ping_ms: 1000,
  pong_timeout_ms: 1000,
  connect_timeout_ms: 2000,
  outbox_max: 10_000,
  outbox_ttl_ms: 3_600_000,
};

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low, high) => low + Math.random() * (high - low);

/**
 * Counts the clicks that reach the Add button, so that a press lost by the
 * page is told apart from one that missed the button.
 */
async function countAddClicks(page) {
  await page.evaluate(() => {
    window.__addClicks = 0;
    document.addEventListener('click', (event) => {
      if (event.target.closest?.('[data-testid=add-user]')) window.__addClicks += 1;
    }, true);
  });
}

/** Records every problem the page shows, so none goes unseen. */
async function watchProblems(page) {
  await page.evaluate(() => {
    window.__problems = [];
    new MutationObserver(() => {
      const shown = document.querySelector('[data-testid=last-error]');
      const kind = shown?.dataset.problem;
      if (kind && window.__problems.at(-1) !== kind) window.__problems.push(kind);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Waits for the pages to settle, then checks them against `servers`. */
async function checkOutcome(pages, servers, presses) {
  const server = servers[0];
  for (const roster of pages) {
    await expect(roster.pending).toHaveCount(0, { timeout: 60_000 });
  }
  // An instance acknowledges a write once Redis has it, and applies it
  // when its feed brings it back; a feed cut by the last Redis restart may
  // still be reconnecting. So the list is read once it holds every press
  // (or, if one was lost, once the wait is over).
  let stored = [];
  await expect.poll(async () => (stored = await server.users()).length, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(presses).catch(() => {});
  const ids = stored.map((u) => String(u.id));
  expect(new Set(ids).size, 'no id twice').toBe(ids.length);
  // Other instances follow Redis' stream of changes; one whose feed was
  // cut by a Redis restart catches up once it has reconnected.
  const checked = Date.now();
  for (const other of servers.slice(1)) {
    await expect.poll(async () => (await other.users()).map((u) => String(u.id)), {
      message: `instance ${other.port} holds the same list`,
      timeout: 30_000,
    }).toEqual(ids);
  }
  const caughtUpMs = Date.now() - checked;
  for (const roster of pages) {
    await roster.expectState('connected');
    await expect(roster.count).toHaveAttribute('value', String(ids.length), { timeout: 30_000 });
    const onPage = await idsOnPage(roster.page);
    expect(onPage).toEqual(ids);
    const problems = await roster.page.evaluate(() => window.__problems);
    expect(problems, 'no add shown as failed').not.toContain('adds_expired');
    expect(problems).not.toContain('outbox_full');
    expect(problems).not.toContain('request_refused');
  }
  let clicks = 0;
  for (const roster of pages) clicks += await roster.page.evaluate(() => window.__addClicks);
  expect(clicks, 'every press reached the Add button').toBe(presses);
  const sent = pages.reduce((n, roster) => n + roster.adds.size, 0);
  expect(ids.length, `every press stored once; ${sent} adds sent; not stored: ${lostAdds(pages, ids).join('; ')}`).toBe(presses);
  return { stored: ids.length, caughtUpMs };
}

/**
 * Follows every add the page sends and every ack it gets, over all its
 * sockets, so that a lost add can be named: `adds` maps each request id
 * to its acks (the user's id, or the error code).
 */
function followAdds(page) {
  const adds = new Map();
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const message = parse(payload);
      if (message?.type === 'add' && !adds.has(message.request_id)) adds.set(message.request_id, []);
    });
    socket.on('framereceived', ({ payload }) => {
      const message = parse(payload);
      if (message?.type === 'ack') {
        (adds.get(message.request_id) ?? []).push(message.user ? String(message.user.id) : message.error?.code);
      }
    });
  });
  return adds;
}

function parse(payload) {
  try {
    return JSON.parse(payload);
  } catch {
    return null;
  }
}

/** What happened to each add that did not end as a stored user. */
function lostAdds(pages, ids) {
  const stored = new Set(ids);
  const lost = [];
  for (const [i, roster] of pages.entries()) {
    for (const [request, acks] of roster.adds) {
      if (!acks.some((ack) => stored.has(ack))) lost.push(`page ${i} ${request}: acks ${JSON.stringify(acks)}`);
    }
  }
  return lost;
}

/** Opens a page on `server` with the chaos settings, and watches it. */
async function openPage(browser, server) {
  const page = await browser.newPage();
  const roster = new RosterPage(page);
  roster.adds = followAdds(page);
  await roster.openWith(server.origin, SETTINGS);
  await roster.expectState('connected');
  await watchProblems(page);
  await countAddClicks(page);
  return roster;
}

test('the server killed with SIGKILL and restarted at random while two pages add', async ({ browser }) => {
  test.setTimeout(60_000 + KILLS * 5_000);
  const server = await RosterServer.start();
  try {
    const pages = [await openPage(browser, server), await openPage(browser, server)];
    let running = true;
    const adding = pages.map((roster) => keepAdding(roster, () => running));
    for (let kill = 0; kill < KILLS; kill++) {
      await pause(between(100, 1500));
      await server.stop('SIGKILL');
      await pause(between(0, 500));
      await server.start();
    }
    running = false;
    const presses = (await Promise.all(adding)).reduce((a, b) => a + b, 0);
    const { stored } = await checkOutcome(pages, [server], presses);
    record(SUITE, 'kill -9 the server', `SIGKILL and restart at random moments while two pages press Add`, KILLS,
      `all ${presses} presses stored exactly once (${stored} users); both pages' lists equal the server's, id by id; no add shown as failed`);
  } finally {
    await server.dispose();
  }
});

/** A `redis-server` with `appendfsync always`, restartable on its port. */
test('with Redis: Redis and one instance of three killed at random while pages on two instances add', async ({ browser }) => {
  test.setTimeout(90_000 + KILLS * 6_000);
  const redis = await RedisServer.start();
  const instances = [];
  try {
    for (let i = 0; i < 3; i++) instances.push(await RosterServer.start(undefined, { args: ['--redis', redis.url] }));
    const pages = [await openPage(browser, instances[0]), await openPage(browser, instances[1])];
    let running = true;
    const adding = pages.map((roster) => keepAdding(roster, () => running));
    const killed = { redis: 0, instance: 0 };
    for (let kill = 0; kill < KILLS; kill++) {
      await pause(between(100, 1500));
      if (kill % 2 === 0) {
        await redis.kill();
        await pause(between(0, 500));
        await redis.start();
        killed.redis += 1;
      } else {
        // One instance of three, a page's or the spare one.
        const instance = instances[Math.floor(Math.random() * 3)];
        await instance.stop('SIGKILL');
        await pause(between(0, 500));
        await instance.start();
        killed.instance += 1;
      }
    }
    running = false;
    const presses = (await Promise.all(adding)).reduce((a, b) => a + b, 0);
    const { stored, caughtUpMs } = await checkOutcome(pages, instances, presses);
    record(SUITE, 'kill -9 Redis and instances', 'SIGKILL and restart of Redis, or of one instance of three, at random, while pages on two instances press Add',
      KILLS, `${killed.redis} Redis kills and ${killed.instance} instance kills: all ${presses} presses stored exactly once (${stored} users); every instance (all within ${caughtUpMs} ms of the pages settling) and both pages hold the same list, id by id; no add shown as failed`);
  } finally {
    await Promise.all(instances.map((s) => s.dispose()));
    await redis.dispose();
  }
});
