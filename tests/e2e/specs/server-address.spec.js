// The socket address is decided when the page loads: ?server= wins,
// otherwise the page's own origin.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

test('?server= points the page at another server', async ({ page }) => {
  const home = await RosterServer.start();
  const other = await RosterServer.start();
  servers.push(home, other);

  const roster = await new RosterPage(page).open(home.origin, `?server=${encodeURIComponent(other.wsUrl)}`);
  await roster.expectState('connected');
  await roster.addUser();
  await roster.expectUserIds(['1']);

  expect(await other.users()).toHaveLength(1);
  expect(await home.users()).toHaveLength(0);
});

test('an unusable ?server= leaves the page closed with the reason shown', async ({ page }) => {
  const home = await RosterServer.start();
  servers.push(home);

  const roster = await new RosterPage(page).open(home.origin, '?server=ftp://example');
  await roster.expectState('closed');
  await expect(roster.lastError).toContainText('must start with ws://');
});
