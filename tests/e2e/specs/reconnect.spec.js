// The page survives its server going away and coming back on the same
// address, and keeps the clicks made meanwhile.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

let server;
test.afterEach(async () => {
  await server?.dispose();
});

for (const signal of ['SIGTERM', 'SIGKILL']) {
  test(`after a ${signal} and a restart the page reconnects and shows the server's list`, async ({ page }) => {
    server = await RosterServer.start();
    const roster = await new RosterPage(page).open(server.origin);
    await roster.expectState('connected');
    await roster.addUser();
    await roster.addUser();
    await roster.expectUserIds(['1', '2']);

    await server.stop(signal);
    await roster.expectState('reconnecting');
    await expect(roster.status).toContainText(/attempt \d+/);
    await expect(roster.lastError).toContainText(/closed the connection|could not connect/);
    // The last list stays on screen while the server is away.
    await roster.expectUserIds(['1', '2']);

    await server.start();
    await roster.expectState('connected');
    await expect(roster.lastError).toHaveCount(0);
    // The server kept its list on disk (SQLite), even through SIGKILL; the
    // page shows exactly what the server has now.
    expect((await server.users()).map((u) => u.id)).toEqual(['1', '2']);
    await roster.expectUserIds(['1', '2']);

    await roster.addUser();
    await roster.expectUserIds(['1', '2', '3']);
  });
}

test('adds clicked while the server is down are sent once it is back', async ({ page }) => {
  server = await RosterServer.start();
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');

  await server.stop();
  await roster.expectState('reconnecting');
  await roster.addUser();
  await roster.addUser();
  await expect(page.getByTestId('pending-count')).toContainText('2');

  await server.start();
  await roster.expectUserIds(['1', '2']);
  await expect(page.getByTestId('pending-count')).toHaveCount(0);
  expect((await server.users()).map((u) => u.id)).toEqual(['1', '2']);
});
