// Roster in another site's page, its module loaded from a Roster server
// on another origin: <roster-users> elements and mount(). Each list has its own server, socket, timer and
// listeners, and gives all of them back when it goes.
const { test, expect } = require('@playwright/test');
const { RosterServer, DIST, waitUntil } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { v1Connections } = require('../support/metrics');
const { TIMER_COUNTER, measureLeaks } = require('../support/leaks');
const { hostPage } = require('../support/host-page');

let servers = [];
let host;
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
  await host?.stop();
});

const connections = (server) => v1Connections(server.origin);

test('two <roster-users> with two servers each see their own list; removing one leaves the other', async ({ page }) => {
  const a = await RosterServer.start();
  const b = await RosterServer.start();
  servers.push(a, b);
  host = await StaticServer.start(DIST, '/', {
    '/dashboard.html': hostPage(`
      <roster-users id="a" server="${a.wsUrl}"></roster-users>
      <roster-users id="b" server="${b.wsUrl}" theme="dark"></roster-users>`, a.origin),
  });
  await page.goto(`${host.origin}/dashboard.html`);
  const first = page.locator('#a');
  const second = page.locator('#b');
  await expect(first.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(second.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  // The host page keeps its own look: Roster styles only its shadow roots.
  expect(await page.evaluate(() => getComputedStyle(document.body).margin)).toBe('8px');

  await first.getByTestId('add-user').click();
  await first.getByTestId('add-user').click();
  await second.getByTestId('add-user').click();
  await expect(first.getByTestId('user-row')).toHaveCount(2);
  await expect(second.getByTestId('user-row')).toHaveCount(1);
  expect(await a.users()).toHaveLength(2);
  expect(await b.users()).toHaveLength(1);
  const cardOf = (element) => element.locator('[data-testid=user-list-scroller]').evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(await cardOf(second)).not.toBe(await cardOf(first));

  // Moving an element keeps its connection.
  await page.evaluate(() => document.body.prepend(document.getElementById('b')));
  await expect(second.getByTestId('user-row')).toHaveCount(1);
  expect(await connections(b)).toBe(1);

  // Removing one closes its socket; the other stays connected and live.
  await page.evaluate(() => document.getElementById('a').remove());
  await waitUntil('server A to see no connection', async () => (await connections(a)) === 0);
  expect(await connections(b)).toBe(1);
  await second.getByTestId('add-user').click();
  await expect(second.getByTestId('user-row')).toHaveCount(2);

  // Changing `server` reconnects, to the other server.
  await page.evaluate((url) => document.getElementById('b').setAttribute('server', url), a.wsUrl);
  await expect(second.getByTestId('user-row')).toHaveCount(2);
  await waitUntil('server B to see no connection', async () => (await connections(b)) === 0);
  expect(await connections(a)).toBe(1);
});

test('mount() and unmount() 100 times leave no socket, listener, timer or memory behind', async ({ page }) => {
  test.setTimeout(180_000);
  const server = await RosterServer.start();
  servers.push(server);
  host = await StaticServer.start(DIST, '/', {
    '/dashboard.html': hostPage('<div id="slot"></div><p>Users: <span id="count"></span></p>', server.origin),
  });
  await page.addInitScript(TIMER_COUNTER);
  await page.goto(`${host.origin}/dashboard.html`);
  await page.waitForFunction(() => window.rosterReady);
  const cdp = await page.context().newCDPSession(page);

  const cycle = async () => {
    await page.evaluate(async (url) => {
      const slot = document.getElementById('slot');
      const counted = new Promise((resolve) => {
        window.handle = window.roster.mount(slot, {
          server: url,
          onUsers: (count) => { document.getElementById('count').textContent = String(count); },
          onStatus: (status) => { if (status.state === 'connected') resolve(); },
        });
      });
      await counted;
      window.handle.unmount();
    }, server.wsUrl);
  };
  for (let i = 0; i < 20; i++) await cycle();
  await waitUntil('the warm-up sockets to close', async () => (await connections(server)) === 0);
  const before = await measureLeaks(cdp);
  for (let i = 0; i < 100; i++) await cycle();
  await waitUntil('every socket to close', async () => (await connections(server)) === 0);
  const after = await measureLeaks(cdp);
  console.log(`[measure] 100 mount/unmount cycles: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
  expect(after.windowListeners).toBe(before.windowListeners);
  expect(after.jsEventListeners).toBe(before.jsEventListeners);
  expect(after.timers).toBeLessThanOrEqual(before.timers);
  expect(after.wasmBytes).toBe(before.wasmBytes);
  // No unmounted Roster is held out of the document.
  expect(after.detachedNodes).toBeLessThanOrEqual(before.detachedNodes);
  expect(after.heapBytes - before.heapBytes).toBeLessThan(768 * 1024);
  expect(await page.locator('#slot').evaluate((slot) => slot.childElementCount)).toBe(0);
  await expect(page.locator('#count')).toHaveText('0');
});
