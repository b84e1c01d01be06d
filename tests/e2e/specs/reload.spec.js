// Adds that are still waiting when the page is reloaded are kept in
// localStorage and sent again under the same request ids, so each lands
// exactly once. The page is served by a plain static host, so it reloads
// while the Roster server is down.
const { test, expect } = require('@playwright/test');
const { RosterServer, DIST } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { RosterPage } = require('../support/roster-page');

let server;
let host;
test.afterEach(async () => {
  await server?.dispose();
  await host?.stop();
});

const keptAdds = (page) => page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('roster:adds:')));

async function openDown(page) {
  server = await RosterServer.start();
  host = await StaticServer.start(DIST, '/');
  const query = `?server=${encodeURIComponent(server.wsUrl)}&backoff_cap_ms=300`;
  const roster = await new RosterPage(page).open(host.origin, query);
  await roster.expectState('connected');
  await server.stop();
  await roster.expectState('reconnecting');
  return roster;
}

test('adds waiting at a reload are sent after it, each exactly once', async ({ page }) => {
  const roster = await openDown(page);
  await roster.addUser();
  await roster.addUser();
  await expect(roster.pending).toContainText('2');
  expect(await keptAdds(page)).toHaveLength(2);

  await page.reload();
  await expect(roster.pending).toContainText('2');
  await server.start();
  await roster.expectUserIds(['1', '2']);
  await expect(roster.pending).toHaveCount(0);
  expect(await keptAdds(page)).toEqual([]);

  await page.reload();
  await roster.expectUserIds(['1', '2']);
  expect(await server.users()).toHaveLength(2);
});

test('a second tab that takes up the waiting adds does not double them', async ({ page, context }) => {
  const first = await openDown(page);
  await first.addUser();
  await first.addUser();
  await expect(first.pending).toContainText('2');

  // Another tab of the same browser opens the page while the server is
  // down: it finds the first tab's adds, and both will send them.
  const other = await context.newPage();
  const second = await new RosterPage(other).open(host.origin, `?server=${encodeURIComponent(server.wsUrl)}&backoff_cap_ms=300`);
  await expect(second.pending).toContainText('2');

  await server.start();
  await first.expectUserIds(['1', '2']);
  await second.expectUserIds(['1', '2']);
  await expect(first.pending).toHaveCount(0);
  await expect(second.pending).toHaveCount(0);
  expect(await server.users()).toHaveLength(2);
  expect(await keptAdds(page)).toEqual([]);
});
