// public/embed-example.html, as shipped in dist/: one host page with an
// iframe, two <roster-users> on two lists of one server, and mount()
// feeding the host's own counters. (The README's picture of it is made by
// tools/screenshots.spec.js.)
const { test, expect } = require('@playwright/test');
const { RosterServer, waitUntil, EXAMPLE_LISTS } = require('../support/server');
const { v1Connections } = require('../support/metrics');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

const connections = (server) => v1Connections(server.origin);

test('the embed example shows two lists of one server, three ways', async ({ browser }) => {
  const server = await RosterServer.start(undefined, { args: EXAMPLE_LISTS });
  servers.push(server);
  for (const name of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing']) {
    await server.add({ name, email: `${name.split(' ')[0].toLowerCase()}@team-a.test` }, 'team-a');
  }
  await server.add({ name: 'Edsger Dijkstra', email: 'edsger@team-b.test' }, 'team-b');
  await server.add({ name: 'Only Default', email: 'default@roster.test' });

  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${server.origin}/embed-example.html`);

  // The iframe's embed view, sized from the height it posts, named by
  // its list (its title is its accessible name).
  const frame = page.frameLocator('#frame');
  await expect(frame.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(frame.getByTestId('user-row')).toHaveCount(3);
  await expect(frame.getByTestId('list-name')).toHaveText('team-a');
  await expect(page.locator('#frame')).toHaveAttribute('title', 'Roster: team-a');
  await expect.poll(() => page.locator('#frame').evaluate((f) => f.style.height)).toMatch(/^\d+px$/);

  // Each element sees its own list, and says which.
  const teamA = page.locator('#team-a');
  const teamB = page.locator('#team-b');
  await expect(teamA.getByTestId('user-row')).toHaveCount(3);
  await expect(teamB.getByTestId('user-row')).toHaveCount(1);
  await expect(teamB.getByTestId('user-row')).toContainText('Edsger Dijkstra');
  await expect(teamB.getByTestId('list-name')).toHaveText('team-b');
  await expect(teamB.getByRole('region', { name: 'Roster: team-b' })).toBeVisible();
  await expect(page.getByTestId('team-b-server')).toContainText('list team-b');

  // mount() feeds the host page's counters.
  await expect(page.getByTestId('host-users')).toHaveText('3');
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(page.locator('#mounted').getByTestId('user-row')).toHaveCount(3);

  // One add through list B's element reaches only list B.
  await teamB.getByTestId('add-user').click();
  await expect(teamB.getByTestId('user-row')).toHaveCount(2);
  expect(await server.users('team-b')).toHaveLength(2);
  expect(await server.users('team-a')).toHaveLength(3);
  expect(await server.users()).toHaveLength(1);
  // And one on list A reaches all three of its views.
  await server.add({ name: 'Barbara Liskov', email: 'barbara@team-a.test' }, 'team-a');
  await expect(page.getByTestId('host-users')).toHaveText('4');
  await expect(teamA.getByTestId('user-row')).toHaveCount(4);
  await expect(frame.getByTestId('user-row')).toHaveCount(4);
  await expect(teamB.getByTestId('user-row')).toHaveCount(2);

  // Four sockets on one server: three on list A, one on list B.
  await waitUntil('four sockets', async () => (await connections(server)) === 4);

  // Unmounting leaves the others connected.
  await page.evaluate(() => window.rosterHandle.unmount());
  await waitUntil('three sockets', async () => (await connections(server)) === 3);
  await expect(page.locator('#mounted').getByTestId('user-row')).toHaveCount(0);

  // A reload starts the three ways over from the server's lists.
  await page.reload();
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(teamB.getByTestId('user-row')).toHaveCount(2);
  await expect(frame.getByTestId('user-row')).toHaveCount(4);
  await page.close();
});
