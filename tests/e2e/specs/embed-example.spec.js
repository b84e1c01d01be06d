// public/embed-example.html, as shipped in dist/: one host page with an
// iframe, two <roster-users> on two servers, and mount() feeding the host's
// own counters. (The README's picture of it is made by
// tools/screenshots.spec.js.)
const { test, expect } = require('@playwright/test');
const { RosterServer, waitUntil } = require('../support/server');
const { v1Connections } = require('../support/metrics');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

const connections = (server) => v1Connections(server.origin);

test('the embed example uses all three ways, with two servers', async ({ browser }) => {
  const a = await RosterServer.start();
  const b = await RosterServer.start();
  servers.push(a, b);
  for (const name of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing']) {
    await a.add({ name, email: `${name.split(' ')[0].toLowerCase()}@team-a.test` });
  }
  await b.add({ name: 'Edsger Dijkstra', email: 'edsger@team-b.test' });

  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${a.origin}/embed-example.html?second=${encodeURIComponent(b.wsUrl)}`);

  // The iframe's embed view, sized from the height it posts.
  const frame = page.frameLocator('#frame');
  await expect(frame.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(frame.getByTestId('user-row')).toHaveCount(3);
  await expect.poll(() => page.locator('#frame').evaluate((f) => f.style.height)).toMatch(/^\d+px$/);

  // Each element sees its own server's list.
  const teamA = page.locator('#team-a');
  const teamB = page.locator('#team-b');
  await expect(teamA.getByTestId('user-row')).toHaveCount(3);
  await expect(teamB.getByTestId('user-row')).toHaveCount(1);
  await expect(teamB.getByTestId('user-row')).toContainText('Edsger Dijkstra');
  await expect(page.getByTestId('team-b-server')).toHaveText(b.wsUrl);

  // mount() feeds the host page's counters.
  await expect(page.getByTestId('host-users')).toHaveText('3');
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(page.locator('#mounted').getByTestId('user-row')).toHaveCount(3);

  // One add through team B's element reaches only team B's server.
  await teamB.getByTestId('add-user').click();
  await expect(teamB.getByTestId('user-row')).toHaveCount(2);
  expect(await b.users()).toHaveLength(2);
  expect(await a.users()).toHaveLength(3);
  // And one on server A reaches all three of its views.
  await a.add({ name: 'Barbara Liskov', email: 'barbara@team-a.test' });
  await expect(page.getByTestId('host-users')).toHaveText('4');
  await expect(teamA.getByTestId('user-row')).toHaveCount(4);
  await expect(frame.getByTestId('user-row')).toHaveCount(4);

  // The iframe, the first element and mount() on A; the second on B.
  await waitUntil('server A to count three sockets', async () => (await connections(a)) === 3);
  expect(await connections(b)).toBe(1);

  // Unmounting leaves the others connected.
  await page.evaluate(() => window.rosterHandle.unmount());
  await waitUntil('server A to count two sockets', async () => (await connections(a)) === 2);
  expect(await connections(b)).toBe(1);
  await expect(page.locator('#mounted').getByTestId('user-row')).toHaveCount(0);

  // A reload starts the three ways over from the servers' lists.
  await page.reload();
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(teamB.getByTestId('user-row')).toHaveCount(2);
  await expect(frame.getByTestId('user-row')).toHaveCount(4);
  await page.close();
});
