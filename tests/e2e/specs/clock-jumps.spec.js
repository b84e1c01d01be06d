// The page's clock jumping an hour forwards and backwards (a laptop
// waking, NTP stepping), with Playwright's clock control: `setSystemTime`
// moves `Date` and leaves the monotonic clock (`performance.now()`) alone,
// as a real jump does.
//
// Expected, written before the runs: the page counts its heartbeats,
// retries and token refreshes on the monotonic clock and takes a token's
// lifetime from the server's clock (`session.server_time`), so after
// either jump it goes on as before: no reconnect, a ping every second,
// the 10 s token refreshed before it expires (the server never sees an
// expired token: `roster_auth_failures_total{reason="expired"}` stays 0),
// every add lands once; with the server down, retries keep their backoff
// (no storm, no hour-long wait) and the page is back within seconds of the
// server.
const { test, expect } = require('@playwright/test');
const { RosterServer, DIST } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { RosterPage } = require('../support/roster-page');
const { hostPage } = require('../support/host-page');
const { metricAt } = require('../support/metrics');
const { mint, GUARDED } = require('../support/tokens');
const { record } = require('../support/reliability');
const { History } = require('../support/history');

const HOUR = 3_600_000;
const WINDOW_MS = 12_000;

/** Counts what the page sends and how many sockets it opens. */
function countFrames(page) {
  const counts = { sockets: 0, ping: 0, auth: 0, hello: 0 };
  page.on('websocket', (socket) => {
    counts.sockets += 1;
    socket.on('framesent', ({ payload }) => {
      const type = typeof payload === 'string' ? /"type":"(\w+)"/.exec(payload)?.[1] : undefined;
      if (type in counts) counts[type] += 1;
    });
  });
  return counts;
}

/** What `counts` gained while `during` ran. */
async function gained(counts, during) {
  const before = { ...counts };
  await during();
  return Object.fromEntries(Object.keys(counts).map((key) => [key, counts[key] - before[key]]));
}

test('the page\'s clock jumping an hour forwards and back: heartbeats, token refreshes and backoff go on as before', async ({ page }) => {
  test.setTimeout(120_000);
  const server = await RosterServer.start(undefined, { args: [...GUARDED, '--auth-grace-ms', '500'] });
  const site = await StaticServer.start(DIST, '/', {
    '/dashboard.html': hostPage('<div id="slot"></div>', server.origin, `
      window.handle = mount(document.getElementById('slot'), {
        server: '${server.wsUrl}',
        ping_ms: 1000,
        pong_timeout_ms: 1000,
        getToken: async () => (await fetch('/token')).text(),
      });`),
  });
  // Tokens of 10 s, so a refresh falls inside each window.
  site.handle('/token', () => mint('ada', 'roster:read roster:write', 10));
  const expired = () => metricAt(server.origin, 'roster_auth_failures_total{reason="expired"}');
  try {
    await page.clock.install();
    const history = new History();
    history.follow(page, 'page');
    const counts = countFrames(page);
    await page.goto(`${site.origin}/dashboard.html`);
    const roster = new RosterPage(page);
    await roster.expectState('connected');

    /** Jumps the wall clock by `ms`, then watches a window of adds. */
    const jump = async (ms) => gained(counts, async () => {
      await page.clock.setSystemTime(Date.now() + ms);
      const until = Date.now() + WINDOW_MS;
      while (Date.now() < until) {
        await roster.addUser();
        // The pace of a person's clicks, not a wait for anything.
        await page.waitForTimeout(500);
      }
    });
    const forwards = await jump(HOUR);
    const backwards = await jump(-2 * HOUR);
    for (const [name, seen] of [['forwards', forwards], ['backwards', backwards]]) {
      expect(seen.sockets, `${name}: no reconnect`).toBe(0);
      expect(seen.ping, `${name}: a ping about every second`).toBeGreaterThanOrEqual(WINDOW_MS / 1000 - 3);
      expect(seen.ping, `${name}: no storm of pings`).toBeLessThanOrEqual(WINDOW_MS / 1000 + 3);
      expect(seen.auth, `${name}: the 10 s token refreshed in time`).toBeGreaterThanOrEqual(1);
    }
    expect(await expired(), 'no token used after it expired').toBe(0);
    await roster.expectState('connected');

    // The server goes away; the wall clock jumps back an hour while the
    // page retries. Backoff goes on (500 ms doubling to 5 s), no storm.
    await server.stop('SIGKILL');
    const retrying = await gained(counts, async () => {
      await page.clock.setSystemTime(Date.now() - 3 * HOUR);
      await page.waitForTimeout(10_000);
    });
    expect(retrying.sockets, 'retries while the server is down').toBeGreaterThanOrEqual(2);
    // Full jitter draws each wait from 0 to the ceiling, and each try
    // after the third is two sockets (roster.v1 refused, then the seed
    // fallback's plain open), so the count varies (8 and 16 seen); without
    // backoff a refused connect comes back in milliseconds, hundreds of
    // times in 10 s.
    expect(retrying.sockets, 'no storm of retries').toBeLessThanOrEqual(30);
    await server.start();
    const back = Date.now();
    await roster.expectState('connected', { timeout: 10_000 });
    const backMs = Date.now() - back;
    await expect(roster.pending).toHaveCount(0);

    history.storeFinal('server', await (await fetch(`${server.origin}/api/v1/users`, {
      headers: { authorization: `Bearer ${mint('check')}` },
    })).json());
    expect(history.check()).toEqual([]);
    const { operations, acked } = history.counts();
    record('faults', 'clock jumps', 'the page\'s wall clock moved an hour forwards, then two back, then one more back while the server was down (Playwright clock)', operations,
      `no reconnect and a ping a second across both jumps (${forwards.ping} and ${backwards.ping} in ${WINDOW_MS / 1000} s), ` +
      `the 10 s token refreshed ${forwards.auth + backwards.auth} times, never presented expired; ${retrying.sockets} retries in 10 s with the server down, ` +
      `back ${backMs} ms after it; history checked: ${acked} acknowledged adds, none lost or doubled`);
  } finally {
    await server.dispose();
    await site.stop();
  }
});
